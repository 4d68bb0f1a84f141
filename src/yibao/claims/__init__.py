"""报销: reimbursement claims for costs not settled directly."""
