from __future__ import annotations

import threading

import pytest

from mockserver.ids import ALPHABET, IdGenerator, encode_base32, is_credential_id


def test_ids_are_shaped_ordered_and_reproducible() -> None:
    first = [IdGenerator(5)() for _ in range(1)]
    generator = IdGenerator(5)
    ids = [generator() for _ in range(100)]
    assert ids[0] == first[0]
    assert ids == sorted(ids)
    assert len(set(ids)) == 100
    assert all(is_credential_id(i) for i in ids)
    assert IdGenerator(6)() != ids[0]
    assert "".join(sorted(ALPHABET)) == ALPHABET


def test_encode_base32_keeps_order_and_width() -> None:
    assert encode_base32(0, 8) == "00000000"
    assert encode_base32(32, 2) == "10"
    assert encode_base32(31, 2) < encode_base32(32, 2)
    with pytest.raises(ValueError):
        encode_base32(32**2, 2)


def test_is_credential_id_rejects_other_shapes() -> None:
    for text in ["cred_", "cred_0000000000000000x", "cred_ABCDEFGHJKMNPQRS", "x_0000000000000000"]:
        assert not is_credential_id(text)


def test_generator_is_thread_safe() -> None:
    generator = IdGenerator(1)
    out: list[str] = []

    def take() -> None:
        out.extend(generator() for _ in range(500))

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(out)) == 2000


def test_observe_moves_the_counter_past_a_loaded_id() -> None:
    made = IdGenerator(3)
    ids = [made() for _ in range(40)]
    fresh = IdGenerator(3)
    fresh.observe(ids[33])
    fresh.observe(ids[2])  # an older id never moves it back
    fresh.observe("cred_not-this-shape")  # foreign shapes say nothing
    assert fresh()[:13] == ids[34][:13]
    top = IdGenerator()
    top.observe("cred_" + encode_base32(32**8 - 2, 8) + "00000000")
    assert top()[5:13] == "zzzzzzzz"
