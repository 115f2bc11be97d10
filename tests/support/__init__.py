"""What the test folders share (tests/ is on the pythonpath: `from support.pages import ...`).

- pages: BeautifulSoup documents, the house rules, `Page`, `read_page`, `page_text`.
- csrf: the CSRF token of a session, read from its pages.
- http: a real server in a thread (`serve`), `HttpClient` with a cookie jar, `at_once`.
- accounts: prescribers with tokens (`create_account`, `account_maker`, `new_npi`).
- us_english: the US-English rule, on every page a test renders and in the sources.
- templates: templates compiled once for the whole run, for every app the tests build.
"""
