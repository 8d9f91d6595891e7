"""The stateful shell around a layer's pure functions, as Keras users know it.

Called on concrete arrays outside any `apply`, a layer builds itself on the first call,
keeps its variables on the object, runs its pure `apply`, and stores the state `apply`
returned (DESIGN.md, "Eager use"). A layer's variables live in the tree of the model they
were last set through, read through a link (`live_variables`): a container's
`_variables` is assembled from its own weights and its children's, and writing it writes
that tree and links the children to it, so a layer reads the same weights used alone or
through any model that holds it, and `fit` replaces a model's numbers in one step. The
functional-graph views (`layer.input`, `layer.output`) are here too: they read the nodes
recorded when the layer was called on symbolic inputs.
"""

import jax

from kerax.backend import apply_scope as scope_lib
from kerax.backend import random_state
from kerax.layers import build_record, keras_mask, live_variables, seed_state, weight_order


class EagerShell:
    """Mixin of `Layer`: eager calls, stored variables, and Keras' graph views."""

    def _call_eager(self, args, kwargs):
        kwargs = dict(kwargs)
        training = bool(kwargs.pop("training", False) or False)
        rng = kwargs.pop("rng", None)
        if self._variables is None:
            self.build_eagerly(*args)
        built = self.built
        implicit = rng is None and training  # seed-state layers draw from their state
        if implicit:
            rng = random_state.next_key()
        kwargs, mask = keras_mask.eager_input_mask(self, args, kwargs)  # Keras' `_keras_mask`
        with scope_lib.record_forward() as record, seed_state.implicit_rng(implicit):
            outputs, state = self.apply(self._variables, *args, training=training, rng=rng,
                                        **kwargs)
        self.__dict__["_eager_losses"] = record.losses
        for layer, name, value in record.assigned_params:  # Keras' eager `assign` in call
            if not isinstance(value, jax.core.Tracer):
                layer._assign_own("params", name, value)
        self._variables = {"params": self._variables["params"], "state": state}
        if not built:  # given variables from a pure `init`: Keras builds on the first call
            self.write_build_record(*args)
        keras_mask.set_output_mask(self, args, outputs, mask, record.output_mask(self))
        return outputs

    def build_eagerly(self, *inputs, key=None):
        """Initializes the layer's own variables for inputs like `inputs` (eager shell)."""
        key = random_state.next_key() if key is None else key
        # `type(self).init`: a Keras-style layer may use `self.init` for its own data.
        with build_record.recording():
            variables = type(self).init(self, key, *inputs)
        self._variables = variables
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None
        return self._variables

    def write_build_record(self, *inputs):
        """Marks a layer that holds variables from a pure `init` (which writes no record)
        built for inputs like `inputs`, as the shell that built it would have: `built`, the
        weight order (a jitted `init` returns its dicts sorted), the build shapes."""
        variables = self._variables
        with build_record.recording():
            jax.eval_shape(lambda *xs: type(self).init(self, jax.random.PRNGKey(0), *xs),
                           *inputs)
        self._variables = variables  # sub-layers made by `build` take their share

    @property
    def _variables(self):
        stored = live_variables.read_all(self)
        children = self._children()
        if not children:
            return stored
        params, state = {}, {}
        if stored is not None:
            params = {k: v for k, v in stored["params"].items() if k not in children}
            state = {k: v for k, v in stored["state"].items() if k not in children}
        for name, child in children.items():
            v = child._variables
            if v is None:
                return None
            if v["params"]:
                params[name] = v["params"]
            if v["state"]:
                state[name] = v["state"]
        return {"params": params, "state": state}

    @_variables.setter
    def _variables(self, value):
        if value is None:
            live_variables.unlink(self)
        else:
            live_variables.claim(self, value)

    def _own_variables_tree(self, collection):
        """This layer's own stored `collection` dict (not its children's), or None."""
        tree = live_variables.read(self, collection)
        children = self._children() if tree else None
        if not children:
            return tree
        return {k: v for k, v in tree.items() if k not in children}

    def _assign_own(self, collection, name, value):
        """Writes one of this layer's own stored variables (a view's eager `assign`)."""
        own = self._own_variables_tree(collection)
        if own is None or name not in own:
            raise ValueError(
                f"Layer '{self.name}' has no built variable '{name}' to assign. Build the "
                "layer (call it on an input) before assigning its variables."
            )
        live_variables.write(self, collection, name, value)
        if collection == "state" and name in self.__dict__.get("_seed_generators", {}):
            self._seed_generators[name]._state = value

    def _variable_path_prefix(self):
        """The layer names a variable of this layer is under in Keras' `variable.path`."""
        prefix = self.__dict__.get("_path_prefix")
        if prefix is None and not self.built:  # variables from a pure (jitted) `init`
            prefix = weight_order.created_path_prefix(self)
        return prefix or self.name

    # ------------------------------------------------------- functional-graph views --
    def _first_node(self, what):
        nodes = self.__dict__.get("_inbound_nodes") or []
        if not nodes:
            raise AttributeError(
                f"Layer '{self.name}' has never been called on a symbolic input, so it has no "
                f"`{what}`. Call it on `kerax.Input(...)` (or a tensor derived from one) first."
            )
        return nodes[0]

    @property
    def input(self):
        """The symbolic input(s) of the layer's first call (Keras' `layer.input`)."""
        if "_output_tensor" in self.__dict__:
            return self.__dict__["_output_tensor"]
        args = self._first_node("input").args
        return args[0] if len(args) == 1 else list(args)

    @property
    def output(self):
        """The symbolic output(s) of the layer's first call (Keras' `layer.output`)."""
        if "_output_tensor" in self.__dict__:
            return self.__dict__["_output_tensor"]
        return self._first_node("output").outputs

    @output.setter
    def output(self, value):
        self.__dict__["_output_tensor"] = value
