# Prints the variables the executor sets or hides (check_executor: env).
import os

for name in ("AML_TEST_VAR", "AML_FAKE_API_KEY", "OMP_NUM_THREADS",
             "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "PYTHONUNBUFFERED",
             "MPLBACKEND"):
    print("%s=%s" % (name, os.environ.get(name, "<unset>")))
print("cwd=%s" % os.getcwd())
