"""A throwaway RabbitMQ node with the MQTT plugin, on loopback ports.

Everything lives in a temporary folder (mnesia, logs, configuration,
Erlang cookie) and the node uses its own epmd port, so it meets no other
RabbitMQ or Erlang node on the machine, and leaves nothing behind: stop()
ends the node and its epmd.
"""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                "integration"))
import zbtest  # noqa: E402

RABBIT_BIN = "/usr/lib/rabbitmq/bin"


def available():
    return os.path.exists(os.path.join(RABBIT_BIN, "rabbitmq-server"))


class Rabbit:
    def __init__(self, tmp):
        self.tmp = tmp
        self.mqtt_port = zbtest.free_port()
        self.amqp_port = zbtest.free_port()
        self.dist_port = zbtest.free_port()
        self.epmd_port = zbtest.free_port()
        self.node = f"zbtest{self.mqtt_port}@localhost"
        self.proc = None
        self.log = os.path.join(tmp, "rabbit-console.log")
        conf = os.path.join(tmp, "rabbitmq.conf")
        with open(conf, "w") as f:
            f.write(f"listeners.tcp.default = 127.0.0.1:{self.amqp_port}\n"
                    f"mqtt.listeners.tcp.default = "
                    f"127.0.0.1:{self.mqtt_port}\n"
                    "mqtt.allow_anonymous = true\n"
                    "mqtt.vhost = /\n"
                    "mqtt.exchange = amq.topic\n"
                    "loopback_users = none\n"
                    "log.console = false\n"
                    "log.file.level = info\n")
        with open(os.path.join(tmp, "enabled_plugins"), "w") as f:
            f.write("[rabbitmq_mqtt].\n")
        self.env = dict(os.environ,
                        HOME=tmp,
                        RABBITMQ_NODENAME=self.node,
                        RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
                        RABBITMQ_NODE_PORT=str(self.amqp_port),
                        RABBITMQ_DIST_PORT=str(self.dist_port),
                        ERL_EPMD_PORT=str(self.epmd_port),
                        RABBITMQ_CONFIG_FILE=conf[:-5],
                        RABBITMQ_ENABLED_PLUGINS_FILE=os.path.join(
                            tmp, "enabled_plugins"),
                        RABBITMQ_MNESIA_BASE=os.path.join(tmp, "mnesia"),
                        RABBITMQ_LOG_BASE=os.path.join(tmp, "log"),
                        RABBITMQ_PID_FILE=os.path.join(tmp, "rabbit.pid"),
                        RABBITMQ_ALLOW_INPUT="")

    def start(self, timeout=90):
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [os.path.join(RABBIT_BIN, "rabbitmq-server")], env=self.env,
            stdout=logf, stderr=logf, stdin=subprocess.DEVNULL,
            start_new_session=True)
        logf.close()
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("rabbitmq-server exited: "
                                   + self.log_text()[-2000:])
            try:
                zbtest.wait_port(self.mqtt_port, 0.5)
                return self
            except TimeoutError:
                pass
        raise TimeoutError("RabbitMQ's MQTT listener did not open: "
                           + self.log_text()[-2000:])

    def stop(self):
        if self.proc and self.proc.poll() is None:
            # The node's whole process group: the shell script, beam
            # and its helpers (not epmd, which daemonised).
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def kill_epmd(self):
        subprocess.run(["epmd", "-kill"], env=self.env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=10)

    def log_text(self):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""
