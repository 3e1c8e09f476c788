# Sleeps a little, then prints AML_TEST_ID (check_executor: parallel runs).
import os
import time

time.sleep(0.3)
print("id=%s" % os.environ.get("AML_TEST_ID", "<unset>"))
