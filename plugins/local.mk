# Provider and executor plugins.
