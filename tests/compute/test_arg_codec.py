"""Tests for shell-safe encoding of command-line values."""

from __future__ import annotations

import shlex
import subprocess
import sys

import pytest

from airflow_kedro_azureml.compute.arg_codec import (
    decode_json,
    decode_value,
    encode_json,
    encode_value,
)

AWKWARD = [
    "plain_name",
    "it's",
    'say "hi"',
    "two\nlines",
    "ünïcødé ✓",
    "$HOME `id` $(id) ; rm -rf / & | > <",
    "b64:looks-encoded",
    "",
    "{braces} *glob? ~tilde",
]


@pytest.mark.parametrize("value", AWKWARD)
def test_values_round_trip(value: str) -> None:
    assert decode_value(encode_value(value)) == value


@pytest.mark.parametrize("value", AWKWARD)
def test_encoded_values_are_one_shell_word(value: str) -> None:
    word = encode_value(value)
    assert shlex.split(f"x {word}") == ["x", word]


def test_safe_values_stay_readable() -> None:
    assert encode_value("train_model") == "train_model"
    assert encode_value("a.b-c/d") == "a.b-c/d"


def test_json_survives_a_real_shell() -> None:
    params = {"quote": 'it\'s "x"', "newline": "a\nb", "unicode": "ü", "n": [1, 2.5, None]}
    word = encode_json(params)
    script = "import sys, json; print(sys.argv[1])"
    out = subprocess.run(
        ["bash", "-c", f"{shlex.quote(sys.executable)} -c {shlex.quote(script)} {word}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert decode_json(out) == params


def test_json_is_canonical() -> None:
    assert encode_json({"b": 1, "a": 2}) == encode_json({"a": 2, "b": 1})
