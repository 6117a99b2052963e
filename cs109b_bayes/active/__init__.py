"""Pool-based active learning with Bayesian-network uncertainty (lab 16).

A model that knows what it does not know can choose which points to have labelled. With
Monte Carlo class probabilities `probs[T, n, C]` (MC-dropout passes or ensemble members):

| score | formula (nats) | what it measures |
|---|---|---|
| `predictive_entropy` | `H[mean_t p_t]` | total uncertainty about the label |
| `bald` | `H[mean_t p_t] - mean_t H[p_t]` | mutual information of label and weights (epistemic) |
| `random_scores` | U(0, 1) | the baseline: labelling at random |

and for regression `predictive_variance(Predictive, component="epistemic")`. `acquire` takes
the top-b unlabelled points. `run_active_learning` runs the pool-based loop with a seeded
`DropoutClassifier` retrained from scratch each round; `learning_curves` runs strategies x
seeds. `gap_problem` and `run_regression_active_learning` do the same on the gap data with
`cb.bnn` regressors. Every run is a function of its seed; no global random state is used.

Modules: `acquisition` (scores, `acquire`), `features` (`pca_features`), `classifier`
(`DropoutClassifier`), `loop` (`run_active_learning`, `learning_curves`, the result types),
`regression` (the gap data version).

#### Examples

```python
import cs109b_bayes as cb
mnist = cb.data.load_mnist()
pool_x, test_x = cb.active.pca_features(mnist.x, mnist.x_test)
curves = cb.active.learning_curves(pool_x, mnist.y, test_x, mnist.y_test, seeds=(0, 1, 2))
```

#### References

[1] Houlsby, Huszar, Ghahramani, Lengyel. Bayesian active learning for classification and
    preference learning. https://arxiv.org/abs/1112.5745
[2] Gal, Islam, Ghahramani. Deep Bayesian active learning with image data. ICML 2017.
    https://arxiv.org/abs/1703.02910
"""

from cs109b_bayes.active.acquisition import (
    acquire, bald, entropy, predictive_entropy, predictive_variance, random_scores)
from cs109b_bayes.active.classifier import DropoutClassifier
from cs109b_bayes.active.features import pca_features
from cs109b_bayes.active.loop import STRATEGIES, ActiveLearningResult, LearningCurves, initial_mask, learning_curves, run_active_learning
from cs109b_bayes.active.regression import (
    REGRESSION_STRATEGIES, GapProblem, gap_problem, run_regression_active_learning)

__all__ = [
    "REGRESSION_STRATEGIES",
    "STRATEGIES",
    "ActiveLearningResult",
    "DropoutClassifier",
    "GapProblem",
    "LearningCurves",
    "acquire",
    "bald",
    "entropy",
    "gap_problem",
    "initial_mask",
    "learning_curves",
    "pca_features",
    "predictive_entropy",
    "predictive_variance",
    "random_scores",
    "run_active_learning",
    "run_regression_active_learning",
]
