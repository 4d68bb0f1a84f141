"""What the menu says, in 普通话 and in English. One table, so a recording studio (or a production
text-to-speech engine) has the whole script in one place."""

from __future__ import annotations

ZH = {
    "welcome": "您好，欢迎致电医保服务热线。",
    "language": "普通话请按1。For English, press 2.",
    "menu": (
        "查询账户余额请按1，消费记录请按2，今年缴费情况请按3，家庭共济请按4，报销进度请按5，"
        "人工服务请按0。重听请按星号键，返回上一级请按井号键。"
    ),
    "ask_id": "请输入您的18位身份证号码，字母X请按星号键。",
    "ask_password": "请输入6位医保卡密码。",
    "after_reading": "重听请按星号键，返回主菜单请按井号键，人工服务请按0。",
    "wrong_key": "您的按键有误。",
    "no_key": "没有收到您的按键。",
    "too_many_wrong": "输入错误次数过多，请您核对后再拨。感谢您的来电，再见。",
    "silence_goodbye": "很抱歉，一直没有收到您的按键。感谢您的来电，再见。",
    "bad_id": "身份证号码校验位不正确，请核对后重新输入。",
    "bad_id_shape": "身份证号码应为18位，请重新输入。",
    "unknown_person": "没有查到这个身份证号码的参保信息，请核对后重新输入。",
    "no_card_password": "您还没有设置医保卡密码，请到医保经办窗口或在手机上设置，或按0转人工服务。",
    "wrong_password": "医保卡密码不正确，还可以再试{left}次。",
    "locked": "医保卡密码错误次数过多，已暂时锁定，请于{until}以后再试，或按0转人工服务。",
    "throttled": "尝试次数过多，请稍后再拨。",
    "identified": "身份验证成功。",
    "agent": "正在为您转接人工服务，请稍候。",
    "hold": "坐席正忙，请您继续等待。",
    "busy": "系统暂时繁忙，刚才的操作没有完成，请重新输入，或稍后再拨。",
    "busy_goodbye": "系统暂时繁忙，请稍后再拨。感谢您的来电，再见。",
    "goodbye": "感谢您的来电，再见。",
    # readings
    "balance": "您的个人账户余额为{amount}，截至{date}。",
    "no_account": "您没有职工医保个人账户，居民医保不设个人账户。",
    "consumption_none": "您最近没有消费记录。",
    "consumption_head": "您最近{count}笔消费记录如下。",
    "consumption_line": "{date}，在{place}，消费{total}，其中个人账户支付{account}。",
    "consumption_line_plain": "{date}，{place}，个人账户支付{account}。",
    "contributions_none": "您{year}年还没有缴费记录。",
    "contributions_head": "您{year}年共有{count}个月的缴费，划入个人账户合计{total}。",
    "contributions_line": "{month}，划入个人账户{amount}。",
    "contributions_owing": "{month}未缴费。",
    "family_none": "您没有家庭共济授权。",
    "family_given": "您授权{relation}{name}使用您的个人账户，状态为{status}。",
    "family_received": "{relation}{name}授权您使用其个人账户，状态为{status}。",
    "family_payments_none": "最近没有家庭共济支付。",
    "family_payments_head": "最近{count}笔家庭共济支付如下。",
    "family_paid_for": "{date}，您的账户为{name}在{place}支付{amount}。",
    "family_paid_by": "{date}，{name}的账户为您在{place}支付{amount}。",
    "claims_none": "您没有正在办理的报销申请。",
    "claims_head": "您有{count}笔正在办理的报销申请。",
    "claims_line": "{date}提交的{place}的报销，金额{amount}，状态为{status}。",
}

EN = {
    "welcome": "Welcome to the medical insurance hotline.",
    "language": "普通话请按1。For English, press 2.",
    "menu": (
        "For your account balance, press 1. Recent payments, 2. This year's contributions, 3. "
        "Family mutual aid, 4. Reimbursement claims, 5. To speak to an agent, press 0. "
        "Press star to repeat, or hash to go back."
    ),
    "ask_id": "Please enter your 18-digit ID number. For the letter X, press star.",
    "ask_password": "Please enter your 6-digit medical insurance card password.",
    "after_reading": "Press star to repeat, hash for the main menu, or 0 for an agent.",
    "wrong_key": "That key is not valid.",
    "no_key": "We did not receive a key.",
    "too_many_wrong": "Too many wrong entries. Please check and call again. Thank you, goodbye.",
    "silence_goodbye": "We did not receive any key. Thank you for calling, goodbye.",
    "bad_id": "The check digit of this ID number is wrong. Please enter it again.",
    "bad_id_shape": "An ID number has 18 characters. Please enter it again.",
    "unknown_person": "No insured person has this ID number. Please check and enter it again.",
    "no_card_password": (
        "You have not set a card password. Set one at a service counter or on your phone, "
        "or press 0 for an agent."
    ),
    "wrong_password": "The card password is wrong. You may try {left} more times.",
    "locked": (
        "Too many wrong card passwords: it is locked until {until}. "
        "Try again later, or press 0 for an agent."
    ),
    "throttled": "Too many tries. Please call again later.",
    "identified": "You are identified.",
    "agent": "Transferring you to an agent, please hold.",
    "hold": "All agents are busy, please hold.",
    "busy": "The system is busy and your request was not completed. Please try again.",
    "busy_goodbye": "The system is busy. Please call again later. Goodbye.",
    "goodbye": "Thank you for calling, goodbye.",
    "balance": "Your personal account balance is {amount}, as of {date}.",
    "no_account": "You have no personal account: resident insurance has none.",
    "consumption_none": "You have no recent payments.",
    "consumption_head": "Your last {count} payments:",
    "consumption_line": "{date}, at {place}, {total} in all, {account} from your account.",
    "consumption_line_plain": "{date}, {place}, {account} from your account.",
    "contributions_none": "No contributions yet in {year}.",
    "contributions_head": "In {year}, {count} months of contributions put {total} into your account.",
    "contributions_line": "{month}: {amount} into your account.",
    "contributions_owing": "{month}: not paid.",
    "family_none": "You have no family mutual aid authorisations.",
    "family_given": "You authorised your {relation} {name}; status: {status}.",
    "family_received": "Your {relation} {name} authorised you; status: {status}.",
    "family_payments_none": "No recent family mutual aid payments.",
    "family_payments_head": "The last {count} family mutual aid payments:",
    "family_paid_for": "{date}, your account paid {amount} for {name} at {place}.",
    "family_paid_by": "{date}, {name}'s account paid {amount} for you at {place}.",
    "claims_none": "You have no open reimbursement claims.",
    "claims_head": "You have {count} open reimbursement claims.",
    "claims_line": "Submitted {date}, {place}, {amount}, status: {status}.",
}


def phrase(language: str, key: str, **values: object) -> str:
    table = EN if language == "en" else ZH
    return table[key].format(**values)
