"""The smallest h11 + anyio server that answers ``ok``: the baseline for ``probe_throughput.py``.

Keep-alive, one task per connection, no routing, no timeouts, no limits: what any health
endpoint built on the same two libraries costs at the least. Usage: ``baseline_h11_server.py PORT``.
"""

import sys

import anyio
import anyio.abc
import h11


async def handle(stream: anyio.abc.SocketStream) -> None:
    conn = h11.Connection(h11.SERVER)
    async with stream:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                try:
                    conn.receive_data(await stream.receive(65536))
                except (anyio.EndOfStream, anyio.BrokenResourceError):
                    return
                continue
            if isinstance(event, h11.Request):
                continue
            if isinstance(event, h11.EndOfMessage):
                data = conn.send(
                    h11.Response(status_code=200, headers=[("Content-Type", "text/plain"), ("Content-Length", "2")])
                )
                data += conn.send(h11.Data(data=b"ok")) + conn.send(h11.EndOfMessage())
                await stream.send(data)
                if conn.our_state is h11.MUST_CLOSE:
                    return
                conn.start_next_cycle()
                continue
            return  # ConnectionClosed or anything unexpected


async def main(port: int) -> None:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=port, backlog=1024)
    await listener.serve(handle)


if __name__ == "__main__":
    anyio.run(main, int(sys.argv[1]))
