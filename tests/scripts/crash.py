# Dies with an uncaught exception (check_executor: CRASHED, exit 1).
print("about to fail")


def load():
    raise ValueError("column 'target' is missing")


load()
