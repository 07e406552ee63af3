#!/usr/bin/python3
"""The deployment files against the programs they run (docs/deploy.md).

No cluster, registry or container daemon is here, so the manifests and the Dockerfile are
checked offline for the fields that matter, and then against the real server: it is started
with each Deployment's own arguments (the repository and ports swapped for a temporary copy
of the bundled one and free ports), and the probes' paths, the Prometheus annotation's path,
the series the autoscaler's metric is made of and the Dockerfile's HEALTHCHECK command are
asked of it. Every flag a container passes must be one its program has.

    check_deploy.py SOURCE_DIR TOOLS_DIR
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

SRC, TOOLS = sys.argv[1], sys.argv[2]
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL:", what)
    return ok


def documents(folder):
    out = []
    for name in sorted(os.listdir(folder)):
        if name.endswith(".yaml") and name != "kustomization.yaml":
            with open(os.path.join(folder, name)) as f:
                for doc in yaml.safe_load_all(f):
                    if doc:
                        doc["_file"] = os.path.join(os.path.basename(folder), name)
                        out.append(doc)
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""


def help_flags(program):
    text = subprocess.run([os.path.join(TOOLS, program), "--help"], capture_output=True,
                          text=True).stdout
    return set(re.findall(r"(--[a-z0-9-]+)", text))


def program_of(container):
    return (container.get("command") or ["supernova-serve"])[0]


def flag_name(arg):
    return arg.split("=", 1)[0]


class Server:
    """supernova-serve with a Deployment's arguments, on a temporary repository and free ports."""

    def __init__(self, args, repository):
        self.ports = {}
        argv = [os.path.join(TOOLS, "supernova-serve"), "--address=127.0.0.1"]
        for a in args:
            name, _, value = a.partition("=")
            if name == "--model-repository":
                a = f"{name}={repository}"
            elif name in ("--http-port", "--grpc-port", "--metrics-port"):
                port = free_port()
                self.ports[int(value)] = port
                a = f"{name}={port}"
            argv.append(a)
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(argv, stderr=self.log)
        http = self.ports[8000] if 8000 in self.ports else None
        for _ in range(200):
            if self.proc.poll() is not None:
                break
            try:
                if http and get(http, "/v2/health/ready")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        self.log.seek(0)
        raise RuntimeError("the server did not become ready: " + self.log.read().decode())

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


def check_server_deployment(dep, repository):
    name = f"{dep['_file']}: Deployment {dep['metadata']['name']}"
    spec = dep["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    check({"http", "grpc", "metrics"} <= set(ports), f"{name}: ports http, grpc, metrics")
    args = container["args"]
    flags = help_flags("supernova-serve")
    for a in args:
        check(flag_name(a) in flags, f"{name}: supernova-serve has no flag {flag_name(a)}")
    given = {flag_name(a): a.partition("=")[2] for a in args}
    for flag, port in (("--http-port", "http"), ("--grpc-port", "grpc"), ("--metrics-port", "metrics")):
        check(given.get(flag) == str(ports.get(port)), f"{name}: {flag} is not the {port} port")
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    repo = given.get("--model-repository")
    check(repo in mounts, f"{name}: the model repository {repo} is not a mounted volume")
    volumes = {v["name"]: v for v in spec["volumes"]}
    check(repo in mounts and mounts[repo]["name"] in volumes, f"{name}: the repository's volume")
    check(spec.get("securityContext", {}).get("runAsNonRoot") is True, f"{name}: runAsNonRoot")
    res = container.get("resources", {})
    check("cpu" in res.get("requests", {}) and "memory" in res.get("requests", {}),
          f"{name}: resource requests for cpu and memory")
    notes = dep["spec"]["template"]["metadata"].get("annotations", {})
    check(notes.get("prometheus.io/scrape") == "true", f"{name}: prometheus.io/scrape")
    check(notes.get("prometheus.io/port") == str(ports.get("metrics")),
          f"{name}: prometheus.io/port is not the metrics port")
    probes = {k: container[k] for k in ("startupProbe", "readinessProbe", "livenessProbe")
              if k in container}
    check("readinessProbe" in probes and "livenessProbe" in probes, f"{name}: both probes")
    check(spec.get("terminationGracePeriodSeconds", 30) > int(given.get("--exit-timeout-secs", 30)),
          f"{name}: the grace period is not longer than the server's drain")

    # The real server, with these arguments.
    server = Server(args, repository)
    try:
        for kind, probe in probes.items():
            port = probe["httpGet"]["port"]
            port = ports[port] if isinstance(port, str) else port
            status, _ = get(server.ports[port], probe["httpGet"]["path"])
            check(status == 200, f"{name}: {kind} {probe['httpGet']['path']} answers {status}")
        # One inference, so the per-model series exist, then the scrape.
        body = json.dumps({"inputs": [
            {"name": "INPUT0", "datatype": "INT32", "shape": [1, 16], "data": list(range(16))},
            {"name": "INPUT1", "datatype": "INT32", "shape": [1, 16], "data": [1] * 16}]})
        req = urllib.request.Request(
            f"http://127.0.0.1:{server.ports[ports['http']]}/v2/models/simple/infer",
            data=body.encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            check(r.status == 200, f"{name}: an inference on the bundled model")
        status, metrics = get(server.ports[int(notes["prometheus.io/port"])],
                              notes.get("prometheus.io/path", "/metrics"))
        check(status == 200, f"{name}: the scrape path answers {status}")
        return metrics
    finally:
        check(server.stop() == 0, f"{name}: the server did not stop cleanly on SIGTERM")


def main():
    repository = tempfile.mkdtemp()
    shutil.copytree(os.path.join(SRC, "examples/model_repository"), repository, dirs_exist_ok=True)
    try:
        run(repository)
    finally:
        shutil.rmtree(repository)
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("deploy: manifests and Dockerfile checked against the programs")
    return 0


def run(repository):
    print("== yamllint")
    if check(shutil.which("yamllint") is not None, "yamllint is not installed (scripts/setup.sh)"):
        lint = subprocess.run(["yamllint", "-c", os.path.join(SRC, "deploy/.yamllint"),
                               os.path.join(SRC, "deploy")], capture_output=True, text=True)
        check(lint.returncode == 0, "yamllint: " + lint.stdout)
    k8s = documents(os.path.join(SRC, "deploy/kubernetes"))
    edge = documents(os.path.join(SRC, "deploy/kubeedge"))
    for doc in k8s + edge:
        check({"apiVersion", "kind", "metadata"} <= set(doc), f"{doc['_file']}: a document lacks "
              "apiVersion, kind or metadata")
    by_kind = lambda docs, kind: [d for d in docs if d["kind"] == kind]

    print("== deploy/kubernetes")
    (server,) = [d for d in by_kind(k8s, "Deployment") if d["metadata"]["name"] == "supernova"]
    metrics = check_server_deployment(server, repository)
    claims = {d["metadata"]["name"] for d in by_kind(k8s, "PersistentVolumeClaim")}
    vols = server["spec"]["template"]["spec"]["volumes"]
    check(all(v["persistentVolumeClaim"]["claimName"] in claims for v in vols
              if "persistentVolumeClaim" in v), "server.yaml: a volume names an unknown claim")
    (service,) = by_kind(k8s, "Service")
    labels = server["spec"]["template"]["metadata"]["labels"]
    check(service["spec"]["selector"].items() <= labels.items(), "the Service selects no pod")
    check(server["spec"]["selector"]["matchLabels"].items() <= labels.items(),
          "the Deployment's selector does not match its pods")
    (hpa,) = by_kind(k8s, "HorizontalPodAutoscaler")
    target = hpa["spec"]["scaleTargetRef"]
    check(target["kind"] == "Deployment" and target["name"] == "supernova",
          "the autoscaler scales another workload")
    (metric,) = hpa["spec"]["metrics"]
    metric_name = metric["pods"]["metric"]["name"]
    (adapter,) = by_kind(k8s, "ConfigMap")
    rules = yaml.safe_load(adapter["data"]["config.yaml"])["rules"]
    (rule,) = [r for r in rules if r["name"]["as"] == metric_name]
    series = set(re.findall(r"\b(nv_[a-z_]+)\{", rule["metricsQuery"]))
    check(bool(series), "the adapter rule reads no series")
    for s in series:
        check(re.search(rf"^{s}\{{.*model=\"simple\"", metrics, re.M) is not None,
              f"the autoscaler's metric reads {s}, which the server does not export")
    with open(os.path.join(SRC, "deploy/kubernetes/kustomization.yaml")) as f:
        listed = set(yaml.safe_load(f)["resources"])
    check("server.yaml" in listed, "kustomization.yaml does not list server.yaml")

    print("== deploy/kubeedge")
    deployments = {d["metadata"]["name"]: d for d in by_kind(edge, "Deployment")}
    cloud, stream = deployments["supernova-cloud"], deployments["supernova-stream"]
    check_server_deployment(cloud, repository)
    exprs = cloud["spec"]["template"]["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]["matchExpressions"]
    check({"key": "node-role.kubernetes.io/edge", "operator": "DoesNotExist"} in exprs,
          "the cloud half may land on edge nodes")
    spec = stream["spec"]["template"]["spec"]
    check(spec.get("nodeSelector", {}).get("node-role.kubernetes.io/edge") == "",
          "the stream pipeline is not pinned to edge nodes")
    check(any(t.get("key") == "node-role.kubernetes.io/edge" and t.get("effect") == "NoSchedule"
              for t in spec.get("tolerations", [])), "the stream does not tolerate edge taints")
    (container,) = spec["containers"]
    check(program_of(container) == "supernova-stream", "the edge pod does not run the stream")
    flags = help_flags("supernova-stream")
    for a in container["args"]:
        check(flag_name(a) in flags, f"supernova-stream has no flag {flag_name(a)}")
    given = {flag_name(a): a.partition("=")[2] for a in container["args"]}
    services = {d["metadata"]["name"]: d for d in by_kind(edge, "Service")}
    host, _, port = given["--cloud"].partition(":")
    check(host.split(".")[0] in services, f"--cloud names no Service of the manifests: {host}")
    svc_ports = {p["port"]: p["name"] for p in services[host.split(".")[0]]["spec"]["ports"]}
    check(svc_ports.get(int(port)) == "grpc", "--cloud is not the cloud's gRPC port")
    check(given.get("--sink", "").startswith("mqtt://"), "the stream publishes no MQTT events")

    print("== deploy/container/Dockerfile")
    check_dockerfile(repository)


def check_dockerfile(repository):
    with open(os.path.join(SRC, "deploy/container/Dockerfile")) as f:
        text = re.sub(r"\\\n", " ", f.read())
    lines = [l.strip() for l in text.splitlines() if l.strip() and not l.strip().startswith("#")]
    stages, current = [], None
    for l in lines:
        word, _, rest = l.partition(" ")
        if word.upper() == "FROM":
            current = {"from": rest.split()[0], "lines": []}
            stages.append(current)
        elif current is not None:
            current["lines"].append((word.upper(), rest.strip()))
    check(len(stages) >= 2, "the Dockerfile is not multi-stage")
    check(stages[0]["from"] == "debian:12", "the build stage is not Debian 12")
    final = stages[-1]
    check(final["from"] == "debian:12-slim", "the run stage is not Debian 12 slim")
    last = lambda word: [r for w, r in final["lines"] if w == word][-1:] or [None]
    user = last("USER")[0]
    check(user not in (None, "root", "0"), "the image runs as root")
    health = last("HEALTHCHECK")[0]
    check(health is not None and "/v2/health/ready" in health, "no HEALTHCHECK on /v2/health/ready")
    exposed = set(" ".join(r for w, r in final["lines"] if w == "EXPOSE").split())
    check({"8000", "8001", "8002"} <= exposed, "the image does not expose 8000-8002")
    entry = json.loads(last("ENTRYPOINT")[0])
    cmd = json.loads(last("CMD")[0])
    check(entry[0] == "supernova-serve", "the entry point is not supernova-serve")
    check("--model-repository" in entry, "the entry point names no repository")

    # The image's command line and its health check against the real server.
    args = [f"{a}={b}" for a, b in zip((entry[1:] + cmd)[::2], (entry[1:] + cmd)[1::2])]
    server = Server(args, repository)
    try:
        probe = json.loads(health.split("CMD", 1)[1])
        script = probe[-1].replace("/127.0.0.1/8000", f"/127.0.0.1/{server.ports[8000]}")
        check(subprocess.run(probe[:-1] + [script]).returncode == 0,
              "the HEALTHCHECK command fails against a ready server")
    finally:
        check(server.stop() == 0, "Dockerfile: the server did not stop cleanly")
    # ... and fails against none.
    script = probe[-1].replace("/127.0.0.1/8000", f"/127.0.0.1/{free_port()}")
    check(subprocess.run(probe[:-1] + [script], stderr=subprocess.DEVNULL).returncode != 0,
          "the HEALTHCHECK command passes with no server")


if __name__ == "__main__":
    sys.exit(main())
