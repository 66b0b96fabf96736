"""Start one service process, detached, and record exactly which process it is.

    spawn.py [--user NAME] [--cwd DIR] [--env K=V]... [--unset K]... TRACKDIR LOGFILE -- CMD...

Used by proc_start in scripts/lib/procs.sh; not meant to be run by hand.

The child calls setsid() (a fresh fork is never a process-group leader, so this cannot fail the
way setsid(1) under job control does, where it forks and $! names the wrong process), resets the
signal dispositions and mask a shell or nohup may have left (ignored SIGINT/SIGQUIT in background
jobs, ignored SIGHUP under nohup, Python's ignored SIGPIPE), connects stdin to /dev/null and
stdout/stderr to LOGFILE, closes every other descriptor (locks included), puts
PREFECTCTL_PROC=TRACKDIR into its environment (inherited by everything the service starts, so
its descendants can be found even when they leave its session), writes "PID STARTTIME" to
TRACKDIR/proc, and execs CMD. PID and STARTTIME (clock ticks after boot, /proc/PID/stat field
22) name the process for good: exec keeps both, and a reused PID has another start time.

The parent returns only once the child has exec'd (a close-on-exec pipe reaches EOF) or failed
to; on failure it prints why, reaps the child, removes the record and exits 127.
"""

import os
import pwd
import signal
import sys


def die(msg):
    sys.stderr.write("spawn: %s\n" % msg)
    sys.exit(2)


def starttime(pid):
    with open("/proc/%d/stat" % pid) as f:
        # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
        return int(f.read().rsplit(")", 1)[1].split()[19])


def parse(argv):
    opts = {"user": None, "cwd": None, "env": [], "unset": []}
    i = 0
    while i < len(argv) and argv[i].startswith("--") and argv[i] != "--":
        name = argv[i][2:]
        if name not in opts or i + 1 >= len(argv):
            die("bad option %s" % argv[i])
        if isinstance(opts[name], list):
            opts[name].append(argv[i + 1])
        else:
            opts[name] = argv[i + 1]
        i += 2
    rest = argv[i:]
    if len(rest) < 4 or rest[2] != "--":
        die("usage: spawn.py [--user NAME] [--cwd DIR] [--env K=V]... [--unset K]... TRACKDIR LOGFILE -- CMD...")
    return opts, os.path.abspath(rest[0]), rest[1], rest[3:]


def child(opts, track, logfile, cmd, w):
    os.setsid()
    for sig in range(1, signal.NSIG):
        if sig in (signal.SIGKILL, signal.SIGSTOP):
            continue
        try:
            signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError, RuntimeError):
            pass
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    null = os.open(os.devnull, os.O_RDONLY)
    out = os.open(logfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    # Everything else goes, the caller's lock descriptors included; w is close-on-exec.
    os.closerange(3, w)
    os.closerange(w + 1, 1 << 20)
    env = dict(os.environ)
    for k in opts["unset"]:
        env.pop(k, None)
    for kv in opts["env"]:
        k, _, v = kv.partition("=")
        env[k] = v
    env["PREFECTCTL_PROC"] = track
    pid = os.getpid()
    tmp = os.path.join(track, ".proc.%d" % pid)
    with open(tmp, "w") as f:
        f.write("%d %d\n" % (pid, starttime(pid)))
    os.rename(tmp, os.path.join(track, "proc"))
    if opts["user"]:
        pw = pwd.getpwnam(opts["user"])
        if pw.pw_uid != os.getuid():
            os.initgroups(pw.pw_name, pw.pw_gid)
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
        env.update(HOME=pw.pw_dir, USER=pw.pw_name, LOGNAME=pw.pw_name)
    if opts["cwd"]:
        os.chdir(opts["cwd"])
    os.execvpe(cmd[0], cmd, env)


def main():
    opts, track, logfile, cmd = parse(sys.argv[1:])
    if not os.path.isdir(track):
        die("no directory %s" % track)
    r, w = os.pipe()  # both close-on-exec (PEP 446)
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            child(opts, track, logfile, cmd, w)
        except BaseException as e:  # exec (or a step before it) failed: tell the parent
            msg = "cannot start %s: %s" % (cmd[0], e.strerror if isinstance(e, OSError) and e.strerror else e)
            os.write(w, msg.encode(errors="replace"))
        os._exit(127)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 4096)
        if not b:
            break
        chunks.append(b)
    if chunks:
        os.waitpid(pid, 0)
        try:
            with open(os.path.join(track, "proc")) as f:
                if f.read().split()[0] == str(pid):
                    os.unlink(os.path.join(track, "proc"))
        except (OSError, IndexError):
            pass
        sys.stderr.write("spawn: %s\n" % b"".join(chunks).decode(errors="replace"))
        sys.exit(127)
    # The child runs on; it is reparented when we exit, and nobody waits for it here.


if __name__ == "__main__":
    main()
