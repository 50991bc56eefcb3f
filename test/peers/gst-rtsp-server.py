#!/usr/bin/python3
"""GStreamer RTSP server serving Motion-JPEG on 127.0.0.1 (or --address), for the interop tests.

Run with Debian's /usr/bin/python3 (it has `gi`; a pyenv python3 on PATH does not).

Prints exactly one line `READY rtsp://127.0.0.1:PORT/PATH ...` on stdout once it listens
(port 0 = a free port chosen by the kernel), then one line per RTCP packet it receives from
clients (`RTCP ...`, see on_rtcp), one `CLIENT connected` line per RTSP connection and one
`TEARDOWN` / `DESCRIBE` line per such request, so tests can check what a real server sees of
our receiver reports over TCP and UDP alike, and count connections and requests. Exits after --duration seconds, on SIGTERM or
SIGINT, or (with --exit-on-stdin-eof) when stdin closes (so an orphaned launcher never outlives its test).
"""
import argparse
import signal
import struct
import sys
import threading

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstRtspServer', '1.0')
gi.require_version('GstRtsp', '1.0')
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--port', type=int, default=0)
    p.add_argument('--address', default='127.0.0.1', help='listen address (a test network namespace may use another)')
    p.add_argument('--path', default='/cam')
    p.add_argument('--width', type=int, default=320)
    p.add_argument('--height', type=int, default=240)
    p.add_argument('--fps', type=int, default=25)
    p.add_argument('--quality', type=int, default=85)
    p.add_argument('--pattern', default='smpte')
    p.add_argument('--format', default='I420', choices=['I420', 'Y42B', 'YUY2'])
    p.add_argument('--mtu', type=int, default=1400)
    p.add_argument('--auth', default='none', choices=['none', 'basic', 'digest'])
    p.add_argument('--user', default='user')
    p.add_argument('--password', default='pass')
    p.add_argument('--protocols', default='udp+tcp', choices=['udp', 'tcp', 'udp+tcp'])
    p.add_argument('--codec', default='jpeg', choices=['jpeg', 'h264'],
                   help='h264: openh264enc (or x264enc) + rtph264pay, for "unsupported codec" tests')
    p.add_argument('--dri', action='store_true', help='avenc_mjpeg with slice threads: DRI + RSTn (RTP type 65)')
    p.add_argument('--qscale', type=int, default=4, help='avenc_mjpeg quantizer in --dri mode (1..30)')
    p.add_argument('--audio', action='store_true', help='add a PCMU track (stream=1)')
    p.add_argument('--large', action='store_true', help='2560x1440 (SDP a=x-dimensions)')
    p.add_argument('--relay-udp', type=int, default=0, metavar='PORT',
                   help='no encoder: serve the RTP/JPEG arriving on udp 127.0.0.1:PORT unchanged')
    p.add_argument('--udp-ports', default='', metavar='A-B', help='server UDP port range (address pool on 127.0.0.1)')
    p.add_argument('--multicast', default='', metavar='GROUP_LO-GROUP_HI:PORT_LO-PORT_HI',
                   help='multicast address pool (e.g. 224.3.0.1-224.3.0.10:5000-5009) and allow RTP/AVP;multicast')
    p.add_argument('--not-shared', action='store_true')
    p.add_argument('--duration', type=float, default=120.0, help='exit after this many seconds')
    p.add_argument('--exit-on-stdin-eof', action='store_true', help='exit when stdin closes (parent died)')
    return p.parse_args()


def video_branch(a):
    if a.relay_udp:
        # udpsrc itself is the "payloader": packets go out as they came in (payload, SSRC and
        # timestamps are FFmpeg's; GStreamer renumbers nothing here but adds its own RTCP).
        caps = 'application/x-rtp,media=video,clock-rate=90000,encoding-name=JPEG,payload=26'
        return f'udpsrc address=127.0.0.1 port={a.relay_udp} caps="{caps}" name=pay0'
    width, height = (2560, 1440) if a.large else (a.width, a.height)
    src = (f'videotestsrc is-live=true pattern={a.pattern} ! '
           f'video/x-raw,width={width},height={height},framerate={a.fps}/1,format={a.format}')
    if a.codec == 'h264':
        enc = 'openh264enc' if Gst.ElementFactory.find('openh264enc') else 'x264enc tune=zerolatency'
        return f'{src} ! {enc} ! rtph264pay name=pay0 pt=96 config-interval=1 mtu={a.mtu}'
    if a.dri:
        # jpegenc cannot write restart markers; libavcodec's MJPEG encoder with slice threads
        # writes DRI + RSTn. Standard Huffman tables and both quant tables, as RFC 2435 needs.
        enc = (f'avenc_mjpeg thread-type=slice threads=auto pass=quant quantizer={a.qscale} '
               'huffman=default force-duplicated-matrix=1')
    else:
        enc = f'jpegenc quality={a.quality}'
    return f'{src} ! {enc} ! rtpjpegpay name=pay0 pt=26 mtu={a.mtu}'


def launch_line(a):
    line = video_branch(a)
    if a.audio:
        line += (' audiotestsrc is-live=true wave=sine ! audio/x-raw,rate=8000,channels=1 ! '
                 f'mulawenc ! rtppcmupay name=pay1 pt=0 mtu={a.mtu}')
    return f'( {line} )'


def rtcp_summary(data):
    """One line per received RTCP compound packet: RR blocks and SDES CNAMEs (RFC 3550 6.4.2, 6.5)."""
    out = []
    off = 0
    while off + 4 <= len(data):
        b0, pt, length = struct.unpack_from('!BBH', data, off)
        count = b0 & 0x1f
        end = off + 4 * (length + 1)
        if (b0 >> 6) != 2 or end > len(data):
            out.append('bad')
            break
        if pt in (200, 201) and off + 8 <= end:
            sender = struct.unpack_from('!I', data, off + 4)[0]
            blocks = off + 8 + (20 if pt == 200 else 0)
            items = [f'pt={pt} ssrc={sender:08x} blocks={count}']
            for i in range(count):
                bo = blocks + 24 * i
                if bo + 24 > end:
                    break
                ssrc, fl, hi, lo, ext, jit, lsr, dlsr = struct.unpack_from('!IBBHIIII', data, bo)
                lost = (hi << 16) | lo
                if lost & 0x800000:
                    lost -= 1 << 24
                items.append(f'rb={ssrc:08x},fraction={fl},lost={lost},ext={ext},jitter={jit},lsr={lsr:08x},dlsr={dlsr}')
            out.append(' '.join(items))
        elif pt == 202:
            names = []
            co = off + 4
            for _ in range(count):
                if co + 4 > end:
                    break
                co += 4  # SSRC/CSRC
                while co < end and data[co] != 0:
                    it, ln = data[co], data[co + 1] if co + 1 < end else 0
                    if it == 1:
                        names.append('cname=' + data[co + 2:co + 2 + ln].decode('utf-8', 'replace'))
                    co += 2 + ln
                co = (co + 4) & ~3  # skip the terminating null and pad to 32 bits
            out.append('pt=202 ' + ' '.join(names))
        else:
            out.append(f'pt={pt}')
        off = end
    return ' | '.join(out)


def main():
    a = parse_args()
    Gst.init(None)
    if a.codec == 'h264' and not (Gst.ElementFactory.find('openh264enc') or Gst.ElementFactory.find('x264enc')):
        print('ERROR no H.264 encoder: apt-get install gstreamer1.0-plugins-bad (openh264enc)', flush=True)
        sys.exit(2)
    loop = GLib.MainLoop()
    server = GstRtspServer.RTSPServer()
    server.set_address(a.address)
    server.set_service(str(a.port))

    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch_line(a))
    factory.set_shared(not a.not_shared)
    protos = {'udp': GstRtsp.RTSPLowerTrans.UDP, 'tcp': GstRtsp.RTSPLowerTrans.TCP,
              'udp+tcp': GstRtsp.RTSPLowerTrans.UDP | GstRtsp.RTSPLowerTrans.TCP}[a.protocols]
    if a.multicast:
        protos |= GstRtsp.RTSPLowerTrans.UDP_MCAST
    factory.set_protocols(protos)
    if a.udp_ports:
        lo_port, hi_port = (int(x) for x in a.udp_ports.split('-'))
        pool = GstRtspServer.RTSPAddressPool()
        pool.add_range('127.0.0.1', '127.0.0.1', lo_port, hi_port, 0)
        factory.set_address_pool(pool)
    if a.multicast:
        # One pool for the media: a shared media hands every multicast client the same group
        # (RFC 2326 section 12.39 destination/port come from here); TTL 1 keeps it on the link.
        groups, ports = a.multicast.split(':')
        g_lo, g_hi = groups.split('-')
        p_lo, p_hi = (int(x) for x in ports.split('-'))
        pool = GstRtspServer.RTSPAddressPool()
        if a.udp_ports:
            lo_port, hi_port = (int(x) for x in a.udp_ports.split('-'))
            pool.add_range('127.0.0.1', '127.0.0.1', lo_port, hi_port, 0)
        pool.add_range(g_lo, g_hi, p_lo, p_hi, 1)
        factory.set_address_pool(pool)

    out_lock = threading.Lock()  # RTCP arrives on one streaming thread per stream

    def on_rtcp(_session, buf):
        ok, info = buf.map(Gst.MapFlags.READ)
        if ok:
            try:
                line = 'RTCP ' + rtcp_summary(bytes(info.data)) + '\n'
            finally:
                buf.unmap(info)
            with out_lock:
                sys.stdout.write(line)
                sys.stdout.flush()

    def on_prepared(media):
        for i in range(media.n_streams()):
            sess = media.get_stream(i).get_rtpsession()
            if sess is not None:
                sess.connect('on-receiving-rtcp', on_rtcp)

    factory.connect('media-configure', lambda _f, media: media.connect('prepared', on_prepared))

    if a.auth != 'none':
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, 'user')
        if a.auth == 'basic':
            auth.add_basic(GstRtspServer.RTSPAuth.make_basic(a.user, a.password), token)
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.BASIC)
        else:
            auth.add_digest(a.user, a.password, token)
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        server.set_auth(auth)
        factory.add_role_from_structure(Gst.Structure.new_from_string(
            'user, media.factory.access=(boolean)true, media.factory.construct=(boolean)true'))

    server.get_mount_points().add_factory(a.path, factory)

    # One line per accepted RTSP connection: lets tests count reconnect attempts (retry storms),
    # one per TEARDOWN request, so tests can count session ends (on-demand cameras), and one per
    # DESCRIBE request, so tests can check that a transport fallback needs no second DESCRIBE
    def on_teardown(_client, _ctx):
        with out_lock:
            sys.stdout.write('TEARDOWN\n')
            sys.stdout.flush()

    def on_describe(_client, _ctx):
        with out_lock:
            sys.stdout.write('DESCRIBE\n')
            sys.stdout.flush()

    def on_client(_server, client):
        client.connect('teardown-request', on_teardown)
        client.connect('describe-request', on_describe)
        with out_lock:
            sys.stdout.write('CLIENT connected\n')
            sys.stdout.flush()
    server.connect('client-connected', on_client)
    if server.attach(None) == 0:
        print('ERROR cannot listen on %s:%d' % (a.address, a.port), flush=True)
        sys.exit(2)

    # Expire sessions quickly once clients vanish, so killed clients do not pile up.
    GLib.timeout_add_seconds(2, lambda: (server.get_session_pool().cleanup(), True)[1])

    def stop(*_args):
        loop.quit()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    GLib.timeout_add(int(a.duration * 1000), lambda: (loop.quit(), False)[1])

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except Exception:  # noqa: BLE001 - any failure means our parent is gone
            pass
        GLib.idle_add(lambda: (loop.quit(), False)[1])
    if a.exit_on_stdin_eof:
        threading.Thread(target=watch_stdin, daemon=True).start()

    port = server.get_bound_port()
    print(f'READY rtsp://{a.address}:{port}{a.path} auth={a.auth} protocols={a.protocols} '
          f'pipeline: {launch_line(a)}', flush=True)
    loop.run()


if __name__ == '__main__':
    main()
