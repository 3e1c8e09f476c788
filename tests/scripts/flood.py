# Writes 50 MiB + 20 bytes to stdout: a head line, 51200 lines of 1 KiB,
# a tail line (check_executor: output capping).
import sys

out = sys.stdout.buffer
out.write(b"HEAD-MARK\n")
line = b"x" * 1023 + b"\n"
block = line * 1024
for _ in range(50):
    out.write(block)
out.write(b"TAIL-MARK\n")
out.flush()
