"""How the interface answers a failure (rule 5): every failure is infcode -1 with HTTP 200, as
national clients expect, and err_msg is the business reason in Chinese (the `DomainError`'s
message, which names the field or the rule). There is no other infcode to choose: the national
interface knows 0 (success) and -1 (failure) only, so no table maps error codes to infcodes.

A failure that is not a business error (a crash inside a handler, a database fault) answers the
same way with INTERNAL_ERROR; its details go to the log only.
"""

from __future__ import annotations

SUCCESS = 0
FAILURE = -1

INTERNAL_ERROR = "系统内部错误，交易未完成，请稍后用新的 msgid 重试"
