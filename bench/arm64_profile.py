#!/usr/bin/env python3
"""Instructions an arm64 program executes, per library and per function, counted by qemu.

    bench/arm64_profile.py [--cpu cortex-a72] [--top 25] [--json OUT] -- PROGRAM ARGS...

Runs PROGRAM (an aarch64 executable) under qemu-aarch64 with its translation log on
(`-d in_asm,exec,nochain,strace`): `in_asm` gives the guest instructions of every translated
block, `exec` each execution of a block (`nochain` makes qemu log every one), `strace` the
files the program maps executable, so that each block's address resolves to a library and,
through its symbol table (aarch64-linux-gnu-nm), to a function. The log streams through a
FIFO and is never stored. qemu's timings say nothing about an ARM board; instruction counts
do say where a program's work goes and whether a change removed some of it (docs/platforms.md).

Every thread's blocks are counted. Run kernels with one thread (--threads 1): a thread pool's
workers spin while they wait, and the spinning would be counted as work.
"""
import argparse
import bisect
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import threading

# qemu's strace prints a call, then (after any page-layout dump) " = RESULT" on a line of its own.
MMAP = re.compile(r"^\d+ mmap\((0x[0-9a-f]+|NULL),(\d+),([A-Z_|]+),[^,]+,(-?\d+),(0x[0-9a-f]+|\d+)\)")
OPENAT = re.compile(r'^\d+ openat\([^,]+,"([^"]+)",[^)]*\) = (\d+)')


def read_log(path, blocks, counts, regions, state):
    """Reads qemu's log: block sizes, block executions, executable mappings, the main image."""
    fds = {}
    pending = None  # an executable mapping of a file whose result is still to come
    start = None
    n = 0
    with open(path, "r", errors="replace") as log:
        for line in log:
            c = line[:1]
            if c == "T":
                slash = line.find("/")
                if slash > 0:
                    counts[int(line[slash + 1 : slash + 17], 16)] += 1
                continue
            if c == "0" and line[1:2] == "x":
                if start is None:
                    start = int(line[2 : line.find(":")], 16)
                    n = 0
                n += 1
                continue
            if start is not None:  # the end of a block's listing
                blocks[start] = n
                start = None
            if c == "0" and "main" not in state and state.get("page") and line.endswith("r-x\n"):
                span = line.split()[0].split("-")  # the first executable mapping: the program
                state["main"] = (int(span[0], 16), int(span[1], 16))
                continue
            if c.isdigit():
                m = OPENAT.match(line)
                if m:
                    fds[int(m.group(2))] = m.group(1)
                    continue
                m = MMAP.match(line)
                if m and "PROT_EXEC" in m.group(3) and int(m.group(4)) in fds:
                    pending = (m.group(1), int(m.group(2)), fds[int(m.group(4))], int(m.group(5), 0))
                continue
            if pending is not None and line.startswith(" = "):
                if not line.startswith(" = -1"):
                    address = int(pending[0], 16) if pending[0] != "NULL" else int(line.split()[1], 16)
                    regions.append((address, pending[1], pending[2], pending[3]))
                pending = None
                continue
            if line.startswith("page layout") and "main" not in state:
                state["page"] = True
    if start is not None:
        blocks[start] = n


class Symbols:
    """Function names of one ELF file by address (its symbol table, else its dynamic one)."""

    def __init__(self, path, nm):
        self.starts, self.names = [], []
        rows = []
        self.stripped = False  # only exported names: an address is "after" the nearest one
        for flags in (["--defined-only"], ["-D", "--defined-only"]):
            self.stripped = flags[0] == "-D"
            try:
                out = subprocess.run([nm, "-C", "--no-sort", *flags, path], capture_output=True, text=True, check=False).stdout
            except OSError:
                out = ""
            for line in out.splitlines():
                parts = line.split(" ", 2)
                if len(parts) == 3 and parts[1] in "tTwWiI" and parts[0]:
                    rows.append((int(parts[0], 16), parts[2]))
            if rows:
                break
        rows.sort()
        for address, name in rows:
            self.starts.append(address)
            self.names.append(name)

    def name(self, address):
        i = bisect.bisect_right(self.starts, address) - 1
        if i < 0:
            return "?"
        return f"[stripped: code after {self.names[i]}]" if self.stripped else self.names[i]


def short(name, width=90):
    name = re.sub(r"\(.*\)( const)?$", "", name) if len(name) > width else name
    return name if len(name) <= width else name[: width - 3] + "..."


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cpu", default=os.environ.get("QEMU_CPU", "cortex-a72"), help="qemu CPU model (default cortex-a72: NEON, no SVE)")
    parser.add_argument("--sysroot", default="/", help="qemu -L: where the arm64 libraries are (default /: multiarch)")
    parser.add_argument("--top", type=int, default=25, help="functions listed")
    parser.add_argument("--json", help="write the counts as JSON here")
    parser.add_argument("--nm", default="aarch64-linux-gnu-nm")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no program to run")
    if not os.path.isfile(command[0]):
        parser.error(f"no program {command[0]} (give its path)")

    blocks, counts, regions, state = {}, collections.Counter(), [], {}
    with tempfile.TemporaryDirectory() as tmp:
        fifo = os.path.join(tmp, "qemu.log")
        os.mkfifo(fifo)
        reader = threading.Thread(target=read_log, args=(fifo, blocks, counts, regions, state))
        reader.start()
        qemu = ["qemu-aarch64", "-L", args.sysroot, "-cpu", args.cpu, "-d", "in_asm,exec,nochain,strace,page", "-D", fifo]
        status = subprocess.run(qemu + command, check=False).returncode
        if reader.is_alive():  # qemu never opened its log (it could not start the program)
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
        reader.join()
    if status != 0:
        print(f"arm64_profile: the program exited with {status}", file=sys.stderr)

    # Each block's address to (file, address in that file).
    maps = sorted(regions)
    main_span = state.get("main")
    main_path = os.path.realpath(command[0])
    with open(main_path, "rb") as f:
        main_is_pie = f.read(18)[16] == 3  # e_type ET_DYN: addresses are relative to the mapping
    symbols = {}
    per_file = collections.Counter()
    per_function = collections.Counter()
    total = 0
    for pc, times in counts.items():
        size = blocks.get(pc, 0)
        n = times * size
        total += n
        path, address = None, None
        if main_span and main_span[0] <= pc < main_span[1]:
            path, address = main_path, pc - main_span[0] if main_is_pie else pc
        else:
            i = bisect.bisect_right(maps, (pc, float("inf"))) - 1
            if i >= 0 and maps[i][0] <= pc < maps[i][0] + maps[i][1]:
                path, address = maps[i][2], pc - maps[i][0] + maps[i][3]
        if path is None:
            per_file["[no file mapped by the program: the dynamic loader, the vdso]"] += n
            continue
        name = os.path.basename(path)
        per_file[name] += n
        if path not in symbols:
            symbols[path] = Symbols(os.path.join(args.sysroot, path.lstrip("/")) if not os.path.exists(path) else path, args.nm)
        per_function[(name, symbols[path].name(address))] += n

    print(f"instructions executed: {total:,} ({args.cpu})")
    print("\nby file:")
    for name, n in per_file.most_common():
        if n * 1000 < total:
            break
        print(f"  {100.0 * n / max(total, 1):5.1f} %  {n:>15,}  {name}")
    print(f"\nby function (top {args.top}):")
    for (name, function), n in per_function.most_common(args.top):
        print(f"  {100.0 * n / max(total, 1):5.1f} %  {n:>15,}  {name}: {short(function)}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(
                {
                    "cpu": args.cpu,
                    "command": command,
                    "total": total,
                    "files": dict(per_file),
                    "functions": [{"file": f, "function": fn, "instructions": n} for (f, fn), n in per_function.most_common()],
                },
                out,
                indent=1,
            )
    return status


if __name__ == "__main__":
    sys.exit(main())
