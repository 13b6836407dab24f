"""``jobacct serve``: the daemon that alone opens the store (tracker issue 13).

Like slurmdbd, it is the one process with rights on the store; clients reach it over a Unix
socket and are identified by the kernel (``SO_PEERCRED``), never by what they send.

- :mod:`jobacct.server.peer`: a connection's peer credentials.
- :mod:`jobacct.server.policy`: who may run which command (controllers, PrivateData).
- :mod:`jobacct.server.zygote`: the single-threaded process that forks one worker per command.
- :mod:`jobacct.server.worker`: inside a worker: the caller, streams and inputs of one command.
- :mod:`jobacct.server.relay`: ``POST /jobacct/v1/run``: a command's frames both ways.
- :mod:`jobacct.server.rest`: slurmrestd's ``/slurmdb/v0.0.38/jobs`` and ``/job/{id}``.
- :mod:`jobacct.server.app`: the aiohttp application, the socket and the start-up checks.
"""
