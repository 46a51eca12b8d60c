# The command lines the documentation shows, cut into pages by pymdownx.snippets.
# tests/docs/test_commands.py parses every `planasonix-mock` and
# `planasonix-contract` line here with the commands' own parsers, so a page
# never shows a flag the commands do not take. Not meant to be run as a script.

# --8<-- [start:install]
# from git: the URL where your team hosts this repository
pip install 'planasonix-credentials-fake @ git+https://git.example.com/your-team/planasonix-credentials-fake.git'
pip install /path/to/checkout              # or a local checkout
pip install '/path/to/checkout[httpx]'     # + httpx, respx, anyio: httpx support in the fixtures
pip install '/path/to/checkout[kit]'       # + the conformance kit (Hypothesis, schemathesis)
# --8<-- [end:install]

# --8<-- [start:serve]
make serve                                    # demo data, 127.0.0.1:8080
planasonix-mock serve --port 8080 --api-key plnx_test_a=ws_a --api-key plnx_test_b=ws_b
planasonix-mock serve --port 0 --seed demo    # 0: pick a free port; demo: the bundled demo data
# --8<-- [end:serve]

# --8<-- [start:serve_frontend]
planasonix-mock serve --seed demo --cors-origin http://localhost:5173
planasonix-mock serve --seed demo --rate-limit 60/min --admin-token "$PLANASONIX_ADMIN_TOKEN"
planasonix-mock serve --host 0.0.0.0 --allow-host fake.internal --admin-token "$PLANASONIX_ADMIN_TOKEN"
# --8<-- [end:serve_frontend]

# --8<-- [start:state_file]
PLANASONIX_STATE_KEY='a long passphrase' make serve      # state in planasonix.state.json
PLANASONIX_STATE_KEY='a long passphrase' .venv/bin/planasonix-mock serve \
  --seed demo --state-file planasonix.state.json
# --8<-- [end:state_file]

# --8<-- [start:run]
planasonix-contract run --base-url https://staging.example.com --api-key "$KEY" \
    --second-api-key "$KEY_OF_ANOTHER_WORKSPACE" --read-only-api-key "$READ_ONLY_KEY" \
    --junitxml contract.xml --report contract.json
planasonix-contract run --target fake          # our own fake, served in this process
planasonix-contract run --base-url https://staging.example.com --api-key "$KEY" \
    --check secret-non-echo --check lifecycle --max-examples 10 --seed 7
planasonix-contract run --base-url https://api.example.com --api-key "$KEY" \
    --read-only --max-requests 200              # production: only lists and reads
planasonix-contract cleanup --base-url https://staging.example.com --api-key "$KEY" \
    --prefix plnx-contract-1a2b3c4d-
# --8<-- [end:run]

# --8<-- [start:profiles]
# once: probe production (or staging) and commit what it does
planasonix-contract learn --base-url https://api.example.com --api-key "$KEY" \
    --output planasonix-profile.json
git add planasonix-profile.json

# everywhere: the fake answers like the deployment
planasonix-mock serve --profile planasonix-profile.json
#   pytest.ini:  planasonix_profile = planasonix-profile.json
#   one test:    @pytest.mark.planasonix(profile="planasonix-profile.json")  # or a dict
#   in code:     create_app(profile="planasonix-profile.json") / PlanasonixFake(profile=...)

# nightly in CI: has the deployment drifted from the fake?
planasonix-contract diff --base-url https://api.example.com --api-key "$KEY" \
    --profile planasonix-profile.json --junitxml diff.xml --report diff.json
# --8<-- [end:profiles]

# --8<-- [start:traffic]
planasonix-contract proxy --upstream http://127.0.0.1:8080 --listen 127.0.0.1:8081 \
    --report traffic.json --junitxml traffic.xml
planasonix-contract check-har session.har --report traffic.json --junitxml traffic.xml
# --8<-- [end:traffic]

# --8<-- [start:dev_proxy]
make serve                                                   # the fake on :8080
planasonix-contract proxy --upstream http://127.0.0.1:8080   # the proxy on :8081
# --8<-- [end:dev_proxy]

# --8<-- [start:consumer]
pytest --planasonix-coverage                 # a table at the end, JSON in planasonix-coverage.json
pytest --planasonix-record-contract=consumer.json
planasonix-contract verify-consumer consumer.json --base-url https://staging.example.com \
    --api-key "$KEY" --junitxml consumer.xml --report consumer-report.json
# --8<-- [end:consumer]
