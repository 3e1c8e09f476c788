# Task profile, data files, metrics, grading (see task.h).
