"""gunicorn for the 双拥 portal behind the local nginx (deploy/nginx/shuangyong.conf).

Started by deploy/systemd/shuangyong-web.service: gunicorn -c deploy/gunicorn.conf.py shuangyong.wsgi
Every value can be changed through /etc/shuangyong/shuangyong.env.
"""

import multiprocessing
import os

wsgi_app = "shuangyong.wsgi:application"

# Only nginx on this machine talks to gunicorn: loopback or a unix socket (unix:/run/shuangyong/gunicorn.sock).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8001")
# PDFs (WeasyPrint) take memory: two workers per core, at most eight unless set.
workers = int(os.environ.get("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8)))
threads = int(os.environ.get("GUNICORN_THREADS", 1))
worker_class = "sync"

# A year-end summary PDF or a large export rendered in the request may take a minute.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 120))
graceful_timeout = 30
keepalive = 5

# Restart each worker now and then so that slow leaks never pile up; jitter keeps them from restarting together.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 1000))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", 100))

# nginx on loopback sets X-Forwarded-Proto; trust it from there only.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Logs go to journald (journalctl -u shuangyong-web). The access log has the path without the query string
# and no referrer: searches carry names and ID numbers in the query.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%({x-forwarded-for}i)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'

proc_name = "shuangyong-web"
# The control socket (gunicornc) lives in systemd's RuntimeDirectory=/run/shuangyong, not in a home directory.
if os.environ.get("RUNTIME_DIRECTORY"):
    control_socket = os.path.join(os.environ["RUNTIME_DIRECTORY"], "gunicorn.ctl")
