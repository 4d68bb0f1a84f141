"""电子结算凭证: the institution's electronic settlement voucher of a settlement (4901/4902/4905/5501)."""
