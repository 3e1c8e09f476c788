# Operator plugins.
