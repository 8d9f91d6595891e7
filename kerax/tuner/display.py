"""The progress lines a search prints (keras-tuner's `Display`)."""

from datetime import datetime


def format_duration(delta):
    s = round(delta.total_seconds())
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return f"{d:d}d {h:02d}h {m:02d}m {s:02d}s" if d > 0 else f"{h:02d}h {m:02d}m {s:02d}s"


class Display:
    """Prints a table of each trial's values at its start and its score at its end."""

    col_width = 18

    def __init__(self, oracle, verbose=1):
        self.verbose = verbose
        self.oracle = oracle
        self.search_start = None
        self.trial_start = {}
        self.trial_number = {}

    def get_state(self):
        return {"search_start": self.search_start and self.search_start.isoformat(),
                "trial_start": {k: v.isoformat() for k, v in self.trial_start.items()},
                "trial_number": self.trial_number}

    def set_state(self, state):
        start = state["search_start"]
        self.search_start = datetime.fromisoformat(start) if start else None
        self.trial_start = {k: datetime.fromisoformat(v) for k, v in state["trial_start"].items()}
        self.trial_number = state["trial_number"]

    def on_trial_begin(self, trial):
        if self.verbose < 1:
            return
        now = datetime.now()
        self.trial_start[trial.trial_id] = now
        self.search_start = self.search_start or now
        self.trial_number[trial.trial_id] = len(self.oracle.trials)
        print(f"\nSearch: Running Trial #{len(self.oracle.trials)}\n")
        self.show_hyperparameter_table(trial)
        print()

    def on_trial_end(self, trial):
        if self.verbose < 1:
            return
        start = self.trial_start.get(trial.trial_id, datetime.now())
        print(f"\nTrial {self.trial_number.get(trial.trial_id, trial.trial_id)} Complete "
              f"[{format_duration(datetime.now() - start)}]")
        if trial.score is not None:
            print(f"{self.oracle.objective.name}: {trial.score}")
        print()
        best = self.oracle.get_best_trials()
        print(f"Best {self.oracle.objective.name} So Far: {best[0].score if best else None}")
        elapsed = datetime.now() - (self.search_start or start)
        print(f"Total elapsed time: {format_duration(elapsed)}")

    def show_hyperparameter_table(self, trial):
        template = "{{0:{0}}}|{{1:{0}}}|{{2}}".format(self.col_width)
        best = self.oracle.get_best_trials()
        best = best[0] if best else None
        if not trial.hyperparameters.values:
            print("default configuration")
            return
        print(template.format("Value", "Best Value So Far", "Hyperparameter"))
        for name, value in trial.hyperparameters.values.items():
            best_value = best.hyperparameters.values.get(name) if best else "?"
            print(template.format(self.format_value(value), self.format_value(best_value), name))

    def format_value(self, value):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return f"{value:.5g}"
        text = str(value)
        return text if len(text) <= self.col_width else f"{text[:self.col_width - 3]}..."
