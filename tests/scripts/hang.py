# Starts a child (in the same process group), records both pids in pids.txt,
# then loops forever (check_executor: TIMEOUT, nothing of the group left).
# With AML_TEST_IGNORE_TERM=1 in the environment, both ignore SIGTERM, so
# only the SIGKILL after the grace period stops them.
import os
import signal
import subprocess
import sys
import time

if os.environ.get("AML_TEST_IGNORE_TERM") == "1":
    # Ignored dispositions survive exec, so the child ignores it too.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen(
    [sys.executable, "-c", "import time\nwhile True: time.sleep(0.05)"])
with open("pids.tmp", "w") as f:
    f.write("%d %d\n" % (os.getpid(), child.pid))
os.replace("pids.tmp", "pids.txt")
print("started", flush=True)
while True:
    time.sleep(0.05)
