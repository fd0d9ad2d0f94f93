"""Listen addresses as APP_LISTEN takes them, and the variables of socket activation."""

import os
import socket

import pytest

from supervisor.pid1.held_sockets import ListenError, parse, parse_all, take_environment


@pytest.mark.parametrize(
    ("text", "shown", "family"),
    [
        ("0.0.0.0:8000", "0.0.0.0:8000", socket.AF_INET),
        (" 127.0.0.1:80 ", "127.0.0.1:80", socket.AF_INET),
        ("[::]:8000", "[::]:8000", socket.AF_INET6),
        ("[0:0::1]:9", "[::1]:9", socket.AF_INET6),
        ("unix:/run/app.sock", "unix:/run/app.sock", socket.AF_UNIX),
    ],
)
def test_addresses_are_read_in_one_spelling(text: str, shown: str, family: socket.AddressFamily) -> None:
    address = parse(text)
    assert address.shown == shown and address.family is family


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("localhost:8000", "must be an IP address"),
        ("8000", "expected HOST:PORT"),
        ("0.0.0.0:0", "a port from 1 to 65535"),
        ("0.0.0.0:65536", "a port from 1 to 65535"),
        ("0.0.0.0:\uff18\uff10", "expected HOST:PORT"),  # full-width digits
        ("unix:run/app.sock", "absolute path"),
        ("", "no address given"),
        ("0.0.0.0:80,0.0.0.0:80", "given twice"),
        ("0.0.0.0:80,nowhere", "nowhere: expected"),
        ("unix:/tmp/" + "a" * 120, "at most 107 bytes"),
        ("[::ffff:127.0.0.1]:80", "write the IPv4 address as such: 127.0.0.1:80"),
        ("unix:/tmp/d.sock,unix:/tmp//d.sock", "given twice"),
    ],
)
def test_what_cannot_be_held_is_said_in_one_line(text: str, says: str) -> None:
    with pytest.raises(ListenError) as info:
        parse_all(text)
    assert says in str(info.value) and "\n" not in str(info.value)


def test_activation_variables_are_taken_whoever_they_were_for() -> None:
    mine = {"LISTEN_FDS": "2", "LISTEN_PID": str(os.getpid()), "LISTEN_FDNAMES": "a:b", "OTHER": "1"}
    assert take_environment(mine) == 2 and mine == {"OTHER": "1"}
    other = {"LISTEN_FDS": "2", "LISTEN_PID": "1"} if os.getpid() != 1 else {"LISTEN_FDS": "2", "LISTEN_PID": "2"}
    assert take_environment(other) == 0 and other == {}
    assert take_environment({"LISTEN_FDS": "x", "LISTEN_PID": str(os.getpid())}) == 0
