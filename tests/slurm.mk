# The slurm executor against a real single-node Slurm cluster that the
# test starts on localhost (tests/slurm-cluster.sh with the config in
# tests/data/slurm/; Debian's slurmctld, slurmd and slurm-client), plus a
# whole offline run whose candidates all run as Slurm jobs.
check_PROGRAMS += tests/check_slurm
tests_check_slurm_SOURCES = tests/check_slurm.c
tests_check_slurm_CFLAGS = $(TEST_CFLAGS)
tests_check_slurm_LDADD = $(TEST_LIBS) $(JSONC_LIBS)
TESTS += tests/check_slurm
EXTRA_DIST += tests/slurm-cluster.sh tests/data/slurm/slurm.conf.in
