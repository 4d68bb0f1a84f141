"""A second scripted caller that sends its keys as SIP INFO (application/dtmf-relay), which
baresip 1.0 cannot: PJSIP's own bindings in a process of their own (PJSIP allows one endpoint
per process). Run: python sip_info_caller.py sip:ivr@127.0.0.1:PORT, then write lines to its
stdin: "keys 1234", "hangup", "quit". It prints "confirmed" once the call is answered."""

from __future__ import annotations

import queue
import sys
import threading
import time

import pjsua2 as pj


class Caller(pj.Call):  # type: ignore[misc]
    state = 0

    def onCallState(self, prm: object) -> None:  # noqa: N802
        self.state = self.getInfo().state


def main(uri: str) -> int:
    ep = pj.Endpoint()
    ep.libCreate()
    config = pj.EpConfig()
    config.uaConfig.threadCnt = 0
    config.logConfig.level = 1
    config.logConfig.consoleLevel = 1
    config.medConfig.noVad = True
    ep.libInit(config)
    transport = pj.TransportConfig()
    transport.port = 0
    transport.boundAddress = "127.0.0.1"
    ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, transport)
    ep.audDevManager().setNullDev()
    ep.libStart()
    account = pj.Account()
    account_config = pj.AccountConfig()
    account_config.idUri = "sip:info-caller@127.0.0.1"
    account_config.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
    account.create(account_config)
    call = Caller(account)
    call.makeCall(uri, pj.CallOpParam(True))
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x.strip()) for x in sys.stdin], daemon=True).start()
    deadline = time.monotonic() + 20
    while call.state != pj.PJSIP_INV_STATE_CONFIRMED:
        ep.libHandleEvents(20)
        if time.monotonic() > deadline:
            print("not answered", flush=True)
            return 1
    print("confirmed", flush=True)
    running = True
    while running:
        ep.libHandleEvents(20)
        try:
            command = lines.get_nowait()
        except queue.Empty:
            continue
        if command.startswith("keys "):
            for key in command[5:]:
                dtmf = pj.CallSendDtmfParam()
                dtmf.digits = key
                dtmf.method = pj.PJSUA_DTMF_METHOD_SIP_INFO
                call.sendDtmf(dtmf)
                end = time.monotonic() + 0.2
                while time.monotonic() < end:
                    ep.libHandleEvents(20)
            print("sent", flush=True)
        elif command == "hangup":
            call.hangup(pj.CallOpParam())
            for _ in range(50):
                ep.libHandleEvents(20)
            print("hung up", flush=True)
        elif command == "quit":
            running = False
    ep.hangupAllCalls()
    for _ in range(20):
        ep.libHandleEvents(20)
    del call
    ep.libDestroy()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
