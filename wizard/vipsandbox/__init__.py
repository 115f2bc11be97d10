"""Sandbox only: a stand-in for Symantec VIP User Services, its certificates and commands,
and the practice client the sandbox uses. No request path of the wizard in production
imports this package.
"""
