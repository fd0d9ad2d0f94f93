"""The probe's fast path (``probe``): what it reads without h11, and what it leaves to the full CLI."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supervisor.commands.probe import _plain_arguments, _seconds, status_of
from supervisor.core.durations import parse_duration


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"HTTP/1.1 200 OK\r\n", 200),
        (b"HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", 503),
        (b"HTTP/1.1 200 \r\n", 200),
        (b"HTTP/1.1 200\r\n", 200),  # no reason phrase at all
        (b"HTTP/1.1 200 OK", None),  # the line has not ended
        (b"HTTP/1.1 2000 OK\r\n", None),
        (b"HTTP/1.1  200 OK\r\n", None),
        (b"HTTP/11 200 OK\r\n", None),
        (b"http/1.1 200 OK\r\n", None),
        (b"SSH-2.0-OpenSSH_9.2\r\n", None),
        (b"HTTP/1.1 200 O\x00K\r\n", None),
        (b"HTTP/1.1 20x OK\r\n", None),
        (b"\r\nHTTP/1.1 200 OK\r\n", None),
    ],
)
def test_only_an_rfc_9112_status_line_is_read(data: bytes, status: int | None) -> None:
    assert status_of(data) == status


@given(st.integers(200, 599), st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30))
def test_a_line_read_here_is_read_the_same_by_h11(code: int, reason: str) -> None:
    import h11

    data = f"HTTP/1.1 {code} {reason}\r\ncontent-length: 0\r\n\r\n".encode()
    status = status_of(data)
    assert status == code
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(data)
    event = conn.next_event()
    assert isinstance(event, h11.Response) and event.status_code == status


@pytest.mark.parametrize(
    ("args", "plain"),
    [
        ([], ("live", {})),
        (["ready"], ("ready", {})),
        (
            ["live", "--port", "9000", "--host=::1", "--timeout", "500ms"],
            ("live", {"--port": "9000", "--host": "::1", "--timeout": "500ms"}),
        ),
        (["--help"], None),
        (["alive"], None),
        (["--port"], None),
        (["--port", "1", "--port", "2"], None),
        (["live", "extra"], None),
    ],
)
def test_plain_command_lines_and_the_rest(args: list[str], plain: tuple[str, dict[str, str]] | None) -> None:
    assert _plain_arguments(args) == plain


@given(st.text(alphabet="0123456789.msh \t\u0661", max_size=8))  # an Arabic-Indic digit too
def test_durations_read_as_the_full_command_line_reads_them(text: str) -> None:
    try:
        expected: float | None = parse_duration(text)
    except ValueError:
        expected = None
    assert _seconds(text) == expected
