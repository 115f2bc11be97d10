"""A testing kit for browser test suites that drive the wizard's sandbox (docs/TESTING-KIT.md).

The pytest plugin (wizard.testing.plugin) gives the fixtures; import the page objects and the
client from here:

    from wizard.testing import EnrollmentWizard, SignInPage, TokenTable
"""

from wizard.testing.client import (
    Agent,
    Credential,
    Prescriber,
    SandboxClient,
    SandboxError,
    Token,
)
from wizard.testing.pages import (
    EnrollmentWizard,
    HelpDeskConsole,
    LostTokenFlow,
    SignInPage,
    TokenTable,
    support_code,
)

__all__ = [
    "Agent",
    "Credential",
    "EnrollmentWizard",
    "HelpDeskConsole",
    "LostTokenFlow",
    "Prescriber",
    "SandboxClient",
    "SandboxError",
    "SignInPage",
    "Token",
    "TokenTable",
    "support_code",
]
