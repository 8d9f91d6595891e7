"""Moved to `kerax.layers.weight_rules` (regularizers and constraints are declared where a
layer creates its weights); this name stays for the training engine's imports."""

from kerax.layers.weight_rules import (apply_constraints, apply_with_losses,  # noqa: F401
                                       has_weight_rules, regularization_loss,
                                       weight_regularization_losses)
