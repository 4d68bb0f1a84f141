"""Statements (《医疗保险个人账户结算单》) and the account read models the channels show."""
