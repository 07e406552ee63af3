#!/usr/bin/python3
"""Joint inference over a real shaped network (docs/joint.md, "Links"): the cloud's
`supernova serve` runs in a network namespace behind a veth pair that tc shapes (netem: delay
each way, rate, loss; tbf: rate), `supernova stream` outside it sends every tenth inferred frame there.
Mid-stream the cloud is killed, and started again in the namespace a second later. The
stream must lose no frame and end normally, the answers must resume after the restart, and
the round trips it measured must carry the netem delay (the calls really crossed the link).

    netns_joint.py TOOLS_DIR TESTS_DIR

Needs root, `ip netns` and tc: netem where the kernel has it, else tbf, which shapes the rate
alone (then the round trips must carry each frame's bytes at that rate); exits 77 (CTest's
skip) with the reason where the machine lacks them. The loopback versions of the same checks run everywhere
(JointCli.*, JointPipeline.*).
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TOOLS, TESTS = sys.argv[1:3]
FRAMES = 150  # 6 s at 25 fps: the restarted cloud must answer before the clip ends
# netem: 20 ms each way, so a round trip of 40 ms at least.
DELAY_MS = 20
RATE = "50mbit"
LOSS = "0.5%"
# tbf: the rate alone, slow enough that a frame's JPEG takes measurable time on the wire.
TBF_RATE_BIT = 1_000_000
TBF_RATE = "1mbit"
TBF_BURST = 1600  # bytes: at least a packet
NS = f"sn-joint-{os.getpid()}"
HOST_IF, NS_IF = f"snjh{os.getpid() % 100000}", f"snjn{os.getpid() % 100000}"
HOST_IP, NS_IP = "10.231.7.1", "10.231.7.2"
PORT = 18501


def fail(message):
    print("FAIL:", message)
    sys.exit(1)


def skip(message):
    teardown_link()  # whatever part of the link was made
    print("SKIP:", message)
    sys.exit(77)


def run(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def setup_link():
    """The namespace, the veth pair and the shaping on both ends: "netem" or "tbf"; SKIP where
    the kernel says no."""
    if os.geteuid() != 0:
        skip("needs root for ip netns and tc")
    if not shutil.which("ip") or not shutil.which("tc"):
        skip("needs ip and tc (iproute2)")
    if run("ip", "netns", "add", NS, check=False).returncode != 0:
        skip("this machine does not allow network namespaces")
    run("ip", "link", "add", HOST_IF, "type", "veth", "peer", "name", NS_IF)
    run("ip", "link", "set", NS_IF, "netns", NS)
    run("ip", "addr", "add", f"{HOST_IP}/30", "dev", HOST_IF)
    run("ip", "link", "set", HOST_IF, "up")
    run("ip", "netns", "exec", NS, "ip", "addr", "add", f"{NS_IP}/30", "dev", NS_IF)
    run("ip", "netns", "exec", NS, "ip", "link", "set", NS_IF, "up")
    run("ip", "netns", "exec", NS, "ip", "link", "set", "lo", "up")
    # netem where the kernel has it (delay, rate, loss); else tbf, which shapes the rate alone
    # (some VM kernels build no netem, this project's CI machine among them).
    kinds = []
    for prefix, dev in (([], HOST_IF), (["ip", "netns", "exec", NS], NS_IF)):
        tc = [*prefix, "tc", "qdisc", "add", "dev", dev, "root"]
        if run(*tc, "netem", "delay", f"{DELAY_MS}ms", "rate", RATE, "loss", LOSS,
               check=False).returncode == 0:
            kinds.append("netem")
            continue
        shaped = run(*tc, "tbf", "rate", TBF_RATE, "burst", str(TBF_BURST), "latency", "400ms",
                     check=False)
        if shaped.returncode != 0:
            skip(f"neither tc netem nor tbf is available here: {shaped.stderr.strip()}")
        kinds.append("tbf")
    return "netem" if kinds == ["netem", "netem"] else "tbf"


def teardown_link():
    run("ip", "link", "del", HOST_IF, check=False)  # takes its peer with it
    run("ip", "netns", "del", NS, check=False)


def start_cloud(repo, log_path):
    log = open(log_path, "a")
    proc = subprocess.Popen(
        ["ip", "netns", "exec", NS, os.path.join(TOOLS, "supernova-serve"), "--model-repository",
         repo, "--address", NS_IP, "--grpc-port", str(PORT), "--http-port", "-1",
         "--metrics-port", "-1"], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while time.time() < deadline:
        with open(log_path) as f:
            if f.read().count('"server_ready"') > start_cloud.ready_lines:
                start_cloud.ready_lines += 1
                return proc
        if proc.poll() is not None:
            fail(f"the cloud exited with {proc.returncode}: {open(log_path).read()}")
        time.sleep(0.05)
    fail("the cloud was not ready within 30 s")


start_cloud.ready_lines = 0


def metrics_lines(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.startswith('{"stream"')]


def main():
    work = tempfile.mkdtemp(prefix="supernova-netns-")
    cloud = None
    try:
        shaping = setup_link()
        clip = os.path.join(work, "square.mp4")
        subprocess.run(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
             "color=black:s=320x240:r=25", "-f", "lavfi", "-i", "color=white:s=40x40:r=25",
             # Grain, so that a frame's JPEG is kilobytes, not hundreds of bytes: its time on
             # the shaped wire must stand out from the cloud's compute.
             "-filter_complex",
             "[0][1]overlay=x='140+100*sin(2*PI*t/6)':y=90:shortest=1,noise=alls=24:allf=t",
             "-frames:v", str(FRAMES), "-c:v", "libx264", "-pix_fmt", "yuv420p", clip],
            check=True)
        model = os.path.join(work, "squares.onnx")
        subprocess.run([os.path.join(TESTS, "squares_model"), model, "320", "240", "40"],
                       check=True)
        repo = os.path.join(work, "repository")
        os.makedirs(os.path.join(repo, "det", "1"))
        shutil.copy(model, os.path.join(repo, "det", "1", "model.onnx"))
        with open(os.path.join(repo, "det", "config.pbtxt"), "w") as f:
            f.write('platform: "supernova_detector"\nmax_batch_size: 0\n'
                    'parameters { key: "decoder" value { string_value: "centernet" } }\n'
                    'parameters { key: "scale" value { string_value: "0.00392157" } }\n'
                    'parameters { key: "score_threshold" value { string_value: "0.5" } }\n')
        cloud_log = os.path.join(work, "cloud.log")
        cloud = start_cloud(repo, cloud_log)

        jsonl, err_path = os.path.join(work, "tracks.jsonl"), os.path.join(work, "stream.err")
        with open(err_path, "w") as err:
            stream = subprocess.Popen(
                [os.path.join(TOOLS, "supernova-stream"), "--model", model, "--source", clip,
                 "--scale", "0.00392157", "--score-threshold", "0.5", "--skip", "none",
                 "--sink", "jsonl:" + jsonl, "--metrics-interval", "0.2",
                 "--cloud", f"{NS_IP}:{PORT}", "--cloud-model", "det", "--escalate", "key=10",
                 "--cloud-timeout-ms", "2000"], stdout=subprocess.DEVNULL, stderr=err)
            # Killed once answers came over the link, started again a second later.
            deadline = time.time() + 20
            while time.time() < deadline:
                seen = metrics_lines(err_path)
                if seen and seen[-1].get("cloud_answered", 0) >= 2:
                    break
                time.sleep(0.05)
            else:
                fail("no answer came over the link: " + open(err_path).read()[-1500:] +
                     "\nthe cloud's log: " + open(cloud_log).read()[-1500:])
            cloud.send_signal(signal.SIGKILL)
            cloud.wait()
            time.sleep(0.3)  # a metrics line written after the kill
            answered_at_kill = metrics_lines(err_path)[-1]["cloud_answered"]
            time.sleep(1.0)
            cloud = start_cloud(repo, cloud_log)
            code = stream.wait(timeout=60)
        err_text = open(err_path).read()
        if code != 0:
            fail(f"supernova-stream exited with {code}: {err_text[-2000:]}")
        with open(jsonl) as f:
            frames = [json.loads(l)["frame"] for l in f]
        final = metrics_lines(err_path)[-1]
        # What the link alone costs a call: netem's delay both ways, or a frame's bytes at tbf's
        # rate (the mean JPEG, 80 % of it: the p50 frame may be a little smaller).
        if shaping == "netem":
            least_rtt_ms, link = 2.0 * DELAY_MS, f"netem {DELAY_MS} ms each way, {RATE}, {LOSS} loss"
        else:
            # tbf lets a burst (1600 bytes) through at once.
            mean_bytes = final["cloud_bytes_sent"] / max(final["cloud_answered"], 1)
            least_rtt_ms = 0.8 * max(mean_bytes - TBF_BURST, 0) * 8 / TBF_RATE_BIT * 1e3
            link = f"tbf {TBF_RATE} (no netem in this kernel), {mean_bytes:.0f} bytes a frame"
        checks = [
            (frames == list(range(FRAMES)),
             f"{len(frames)} results for {FRAMES} frames, in order: {frames == sorted(frames)}"),
            (final["cloud_answered"] > answered_at_kill,
             f"answers: {answered_at_kill} before the kill, {final['cloud_answered']} at the end"),
            (final["cloud_failed"] >= 1, f"{final['cloud_failed']} calls failed while it was down"),
            (final["cloud_rtt_p50_ms"] >= least_rtt_ms,
             f"round trip p50 {final['cloud_rtt_p50_ms']} ms over {link}: at least "
             f"{least_rtt_ms:.1f} ms expected"),
            (final["error"] == "", f"the stream's error: '{final['error']}'"),
        ]
        for ok, what in checks:
            print("ok  " if ok else "FAIL", what)
        if not all(ok for ok, _ in checks):
            fail("see above; the stream's last metrics: " + json.dumps(final))
        print(f"sent {final['cloud_sent']} of {FRAMES} frames ({final['cloud_bytes_sent']} bytes), "
              f"answered {final['cloud_answered']}, failed {final['cloud_failed']}, "
              f"rtt p50 {final['cloud_rtt_p50_ms']} ms p99 {final['cloud_rtt_p99_ms']} ms")
    finally:
        if cloud is not None and cloud.poll() is None:
            cloud.kill()
            cloud.wait()
        teardown_link()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
