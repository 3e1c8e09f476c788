# Exits 0 after printing a score (check_executor: the OK outcome).
import sys

print("training...")
print("warming up", file=sys.stderr)
print("Final Validation Score: 0.5")
