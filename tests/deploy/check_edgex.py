#!/usr/bin/python3
"""An EdgeX application service configured by deploy/edgex/configuration.yaml takes in every
event a real `supernova stream` publishes (docs/deploy.md, "EdgeX").

No EdgeX runs here, so the parts of the service that touch Supernova's events are played by
what does them for real: a mosquitto broker, a subscriber on the trigger's own topic filter (the
broker matches it), the events decoded against EdgeX's own Event and BaseReading definitions
(edgex_event_v3.schema.json, validated by python3-jsonschema), and the configured pipeline's
filters applied as EdgeX defines them (keep an event whose name is listed). The stream runs with
the camera name, topic and EdgeX deviceName of deploy/kubeedge/edge-stream.yaml, on a clip
ffmpeg draws (a white square moving) through the squares detector.

    check_edgex.py SOURCE_DIR TOOLS_DIR TESTS_DIR
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import jsonschema
import yaml

SRC, TOOLS, TESTS = sys.argv[1:4]
FRAMES = 50
# EdgeX's filter functions: the parameter that lists the names, and the event field it reads.
FILTERS = {"FilterByDeviceName": ("DeviceNames", "deviceName"),
           "FilterByProfileName": ("ProfileNames", "profileName"),
           "FilterBySourceName": ("SourceNames", "sourceName")}


def fail(message):
    print("FAIL:", message)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stream_args():
    """--name, --sink and --device-name of the edge pipeline's manifest."""
    with open(os.path.join(SRC, "deploy/kubeedge/edge-stream.yaml")) as f:
        dep = next(d for d in yaml.safe_load_all(f) if d and d["kind"] == "Deployment")
    (container,) = dep["spec"]["template"]["spec"]["containers"]
    args = dict(a.split("=", 1) for a in container["args"])
    return args["--name"], args["--sink"], args["--device-name"]


def main():
    with open(os.path.join(SRC, "deploy/edgex/configuration.yaml")) as f:
        config = yaml.safe_load(f)
    trigger = config["Trigger"]
    if trigger["Type"] != "external-mqtt":
        fail(f"the trigger is {trigger['Type']}, not external-mqtt")
    pipeline = config["Writable"]["Pipeline"]
    if pipeline.get("TargetType", "event").lower() != "event":
        fail("the pipeline does not decode payloads as EdgeX events")
    topics = [t.strip() for t in trigger["SubscribeTopics"].split(",")]
    order = [f.strip() for f in pipeline["ExecutionOrder"].split(",")]
    functions = pipeline["Functions"]
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "edgex_event_v3.schema.json")) as f:
        schema = json.load(f)
    validator = jsonschema.Draft7Validator(schema)

    name, sink, device = stream_args()
    if not sink.startswith("mqtt://"):
        fail(f"the edge pipeline's sink is not MQTT: {sink}")
    topic = sink.split("/", 3)[3]

    work = tempfile.mkdtemp()
    port = free_port()
    with open(os.path.join(work, "mosquitto.conf"), "w") as f:
        f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    broker = subprocess.Popen(["mosquitto", "-c", os.path.join(work, "mosquitto.conf")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subscriber = None
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        # The trigger's topic filters, as the service subscribes; -d prints the SUBACK.
        cmd = ["stdbuf", "-oL", "mosquitto_sub", "-d", "-h", "127.0.0.1", "-p", str(port), "-C", str(FRAMES),
               "-W", "120"]
        for t in topics:
            cmd += ["-t", t]
        out_path = os.path.join(work, "sub.out")
        out = open(out_path, "w")
        subscriber = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        for _ in range(200):
            with open(out_path) as f:
                if "SUBACK" in f.read():
                    break
            time.sleep(0.05)
        else:
            fail("the subscriber did not subscribe")

        clip = os.path.join(work, "moving.mp4")
        subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=black:s=320x240:r=25",
             "-f", "lavfi", "-i", "color=white:s=40x40:r=25", "-filter_complex",
             "[0][1]overlay=x='10+100*t':y=60:shortest=1", "-frames:v", str(FRAMES), "-c:v",
             "libx264", "-pix_fmt", "yuv420p", clip], check=True)
        model = os.path.join(work, "squares.onnx")
        subprocess.run([os.path.join(TESTS, "squares_model"), model, "320", "240", "40"],
                       check=True)
        stream = subprocess.run(
            [os.path.join(TOOLS, "supernova-stream"), "--model", model, "--source", clip,
             "--name", name, "--sink", f"mqtt://127.0.0.1:{port}/{topic}", "--device-name",
             device, "--scale", "0.00392157", "--score-threshold", "0.5"],
            capture_output=True, text=True, timeout=120)
        if stream.returncode != 0:
            fail("supernova-stream: " + stream.stderr)
        # Every event was handed to the broker before the stream exited.
        try:
            got_all = subscriber.wait(timeout=20) == 0
        except subprocess.TimeoutExpired:
            got_all = False
        if not got_all:
            fail(f"the subscriber did not get {FRAMES} events on {topics}")
        out.close()
        with open(out_path) as f:
            payloads = [l for l in f.read().splitlines() if l.startswith("{")]
    finally:
        if subscriber and subscriber.poll() is None:
            subscriber.kill()
        broker.terminate()
        broker.wait()
        shutil.rmtree(work)
    if len(payloads) != FRAMES:
        fail(f"{len(payloads)} events on {topics}, expected {FRAMES}")

    kept, with_objects, ids = 0, 0, set()
    for p in payloads:
        event = json.loads(p)
        errors = sorted(validator.iter_errors(event), key=str)
        if errors:
            fail(f"not an EdgeX v3 Event: {errors[0].message} at {list(errors[0].path)}: {p[:200]}")
        ids.add(event["id"])
        keep = True
        for fn in order:
            if fn not in FILTERS:
                continue
            key, field = FILTERS[fn]
            params = functions[fn]["Parameters"]
            listed = [n.strip() for n in params[key].split(",")]
            filter_out = params.get("FilterOut", "false").lower() == "true"
            keep = keep and ((event[field] in listed) != filter_out)
        kept += keep
        (reading,) = event["readings"]
        value = reading["objectValue"]
        if value["stream"] != name:
            fail(f"an event of stream {value['stream']}, expected {name}")
        with_objects += bool(value["objects"])
    if len(ids) != FRAMES:
        fail("event ids repeat")
    if kept != FRAMES:
        fail(f"the pipeline's filters keep {kept} of {FRAMES} events")
    if with_objects < FRAMES // 2:
        fail(f"only {with_objects} events carry the square")

    # The definitions have teeth: what EdgeX would refuse, they refuse.
    event = json.loads(payloads[-1])
    for spoil in (lambda e: e.update(origin=0), lambda e: e.update(readings=[]),
                  lambda e: e.update(id="frame-1"), lambda e: e.pop("sourceName"),
                  lambda e: e["readings"][0].update(valueType="Detections"),
                  lambda e: e["readings"][0].pop("objectValue"),
                  lambda e: e["readings"][0].update(deviceName=" ")):
        bad = json.loads(json.dumps(event))
        spoil(bad)
        if validator.is_valid(bad):
            fail("the EdgeX definitions accept a spoiled event: " + json.dumps(bad)[:200])
    print(f"edgex: {FRAMES} events on {topics} are EdgeX v3 Events, {kept} kept by the "
          f"pipeline ({', '.join(order)}), {with_objects} carry the square")


if __name__ == "__main__":
    main()
