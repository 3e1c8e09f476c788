# Provider and executor plugins.
include plugins/local/local.mk
include plugins/bwrap/local.mk
include plugins/slurm/local.mk
include plugins/kbsynth/local.mk
include plugins/synthetic/local.mk
include plugins/openai/local.mk
include plugins/anthropic/local.mk
include plugins/replay/local.mk
