"""`FitRun`: one `fit` in progress, as callbacks and checkpoints see it.

`prepare_fit` (`kerax.trainer.fit`) makes one per call (`model.fit_run`, kept after
`fit` returns until the next one): the data adapter and the executions it provides, the
epoch plan, K, the callbacks, the validation data and the resume point.
`BackupAndRestore`, `kerax.checkpoint.training_checkpoint`, `memory_report` and other
callbacks read the live train state and ask for a resume point through it, instead of
reading private attributes of the model.
"""

import numpy as np

from kerax.trainer import train_state_store

# An epoch of a stream of unknown length: a bound no epoch reaches.
UNKNOWN_EPOCH_STEPS = 2**40


class FitRun:
    """The state of one `fit` call.

    Attributes:
        model: the model being trained.
        adapter: the `ArrayDataAdapter` or `StreamDataAdapter` of the training data.
        executions: the `ArrayExecutions`/`StreamExecutions` the epoch loop runs.
        callbacks: the `CallbackList` of this `fit`.
        steps_per_execution: the steps fused into one dispatch (after "auto").
        epoch_plan: `(indices, mask)` of the current epoch, `(steps, batch_size)`; a
            stream's plan is empty, `(steps, 0)`, its length the epoch's steps.
        epochs, initial_epoch: `fit`'s arguments.
        validation: `(x_val, y_val, sample_weight_val)` or None, with
            `validation_freq`, `validation_steps`, `validation_batch_size`.
        steps_done: the steps of the current epoch that ran (batch hooks get Keras'
            index, `begin + K - 1`, which a short last execution passes).
        resume_point: set by a checkpoint restore (`{"epoch", "step", "plan",
            "metric_state"}`) before the first epoch; `fit` resumes there.

    Example:
    >>> import numpy as np, kerax
    >>> model = kerax.Sequential([kerax.Input((2,)), kerax.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> _ = model.fit(np.ones((8, 2)), np.ones((8, 1)), batch_size=4, verbose=0)
    >>> model.fit_run.steps_in_epoch, model.fit_run.epochs
    (2, 1)
    """

    def __init__(self, model, adapter, callbacks, steps_per_execution=None):
        self.model = model
        self.adapter = adapter
        self.callbacks = callbacks
        self.steps_per_execution = steps_per_execution
        self.executions = None
        self.epoch_plan = None
        self.first_plan = None  # the first epoch's plan (arrays), drawn by `prepare_fit`
        self.compiled_ahead = None  # compiles done choosing K, counted with epoch 1
        self.epochs, self.initial_epoch = 1, 0
        self.validation = None
        self.validation_freq, self.validation_steps, self.validation_batch_size = 1, None, None
        self.validation_adapter = None  # a generator's, kept across epochs (`fit._validate`)
        self.resume_point = None
        self.steps_done = 0
        if self.is_stream:  # an empty plan of the epoch's steps
            steps = adapter.steps_per_epoch or UNKNOWN_EPOCH_STEPS
            self.epoch_plan = (np.zeros((steps, 0), np.int32), np.zeros((steps, 0), bool))

    @property
    def is_stream(self):
        return hasattr(self.adapter, "get_position")

    @property
    def steps_in_epoch(self):
        """Steps of the current epoch (a stream of unknown length: a large bound)."""
        return int(self.epoch_plan[0].shape[0])

    # -- the live train state (the model's, between executions) --
    @property
    def variables(self):
        return self.model._variables

    @property
    def opt_state(self):
        return self.model._train_opt_state()

    @property
    def metric_state(self):
        state = getattr(self.model, "_metric_state", None)
        return self.model._init_metric_state() if state is None else state

    @property
    def rng(self):
        return train_state_store.train_rng(self.model)

    def train_state(self):
        """A fresh `TrainState` of the model (variables, optimizer state, RNG, step),
        laid out for the current distribution."""
        return self.model._make_train_state()

    def restore(self, variables, opt_state, rng):
        """Puts a checkpoint's train state back into the model."""
        self.model._variables = variables
        self.model._set_train_opt_state(opt_state)
        train_state_store.set_train_rng(self.model, rng)

    def take_resume_point(self):
        point, self.resume_point = self.resume_point, None
        return point

    def first_execution(self):
        """`(program, ts, args)`: the first training execution as `fit` would run it
        (`program(ts, *args)`; `program.lower(ts, *args).compile()` compiles it without
        running a step)."""
        ts = self.train_state()
        plan = self.first_plan if self.first_plan is not None else self.epoch_plan
        program, args, _ = next(iter(self.executions.train(ts, plan,
                                                           self.steps_per_execution)))
        return program, ts, args


__all__ = ["FitRun", "UNKNOWN_EPOCH_STEPS"]
