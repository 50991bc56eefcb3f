#!/usr/bin/python3
"""What GStreamer itself rebuilds: runs GStreamer's rtpjpegdepay over a file of RTP packets.

Run with Debian's /usr/bin/python3 (it has `gi`).

Input (--packets FILE): RTP/JPEG packets, each prefixed by its length as a 32-bit big-endian
integer, in arrival order. Every JPEG rtpjpegdepay outputs is written to --out DIR as
gst-NNNNN.jpg and announced on stdout as `FRAME <rtpTimestamp> <file>`; a final line
`DONE <count>` follows. The RTP timestamp is recovered from the buffer PTS, which is set from
the (unwrapped) RTP timestamp of each input packet, so frames can be matched to ours by
timestamp rather than by position.
"""
import argparse
import os
import struct
import sys

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstApp', '1.0')
from gi.repository import Gst, GstApp  # noqa: E402,F401


def read_packets(path):
    with open(path, 'rb') as f:
        data = f.read()
    off = 0
    while off + 4 <= len(data):
        (n,) = struct.unpack_from('!I', data, off)
        off += 4
        yield data[off:off + n]
        off += n


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--packets', required=True)
    p.add_argument('--out', required=True)
    p.add_argument('--pt', type=int, default=26)
    p.add_argument('--extra-caps', default='', help='e.g. ",x-dimensions=(string)\\"2560,1440\\""')
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    Gst.init(None)
    caps = (f'application/x-rtp,media=video,clock-rate=90000,encoding-name=JPEG,payload={a.pt}'
            + a.extra_caps)
    pipe = Gst.parse_launch(
        f'appsrc name=src format=time caps="{caps}" ! rtpjpegdepay ! appsink name=sink sync=false')
    src = pipe.get_by_name('src')
    sink = pipe.get_by_name('sink')
    pipe.set_state(Gst.State.PLAYING)

    first = None
    last = None
    unwrapped = 0
    for pkt in read_packets(a.packets):
        if len(pkt) < 12 or (pkt[1] & 0x7f) != a.pt:
            continue
        ts = struct.unpack_from('!I', pkt, 4)[0]
        if first is None:
            first, last = ts, ts
        # unwrap relative to the previous packet (RFC 3550 timestamps are modulo 2^32)
        delta = (ts - last) & 0xffffffff
        if delta >= 0x80000000:
            delta -= 0x100000000
        unwrapped += delta
        last = ts
        buf = Gst.Buffer.new_wrapped(pkt)
        # offset by one hour so slightly reordered earlier timestamps never go negative
        buf.pts = (unwrapped + 3600 * 90000) * Gst.SECOND // 90000
        src.emit('push-buffer', buf)
    src.emit('end-of-stream')

    count = 0
    while True:
        sample = sink.emit('pull-sample')
        if sample is None:
            break
        buf = sample.get_buffer()
        ok, info = buf.map(Gst.MapFlags.READ)
        if not ok:
            continue
        data = bytes(info.data)
        buf.unmap(info)
        ticks = round(buf.pts * 90000 / Gst.SECOND) - 3600 * 90000
        rtp_ts = (first + ticks) & 0xffffffff
        name = 'gst-%05d.jpg' % count
        with open(os.path.join(a.out, name), 'wb') as f:
            f.write(data)
        print(f'FRAME {rtp_ts} {name}', flush=True)
        count += 1
    pipe.set_state(Gst.State.NULL)
    print(f'DONE {count}', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
