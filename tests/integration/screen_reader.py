#!/usr/bin/python3
"""The seed's flow as a screen reader user goes through it: everything is found, read and pressed
through the AT-SPI tree (pyatspi, as Orca does), and typed as key presses sent through the
accessibility registry. A plain Python socket is the seed's client.

Usage: screen_reader.py NETDECK [ARGS...]: starts the window itself once a screen reader is
announced, as happens when Orca runs before an application starts. Exits non-zero, with the tree
as the window exposed it, when something a user needs cannot be found or read.
"""

import socket
import subprocess
import sys
import time

import pyatspi
from gi.repository import Gio, GLib

PATIENCE = 20
SEED_TEXT = "hello 안녕하세요"


def announce_screen_reader():
    """What Orca does at start: bring the accessibility bus up and say a screen reader runs."""
    bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)

    def call(interface, method, args, reply):
        return bus.call_sync(
            "org.a11y.Bus", "/org/a11y/bus", interface, method, args,
            GLib.VariantType(reply) if reply else None, 0, PATIENCE * 1000, None)

    call("org.a11y.Bus", "GetAddress", None, "(s)")
    for status in ("IsEnabled", "ScreenReaderEnabled"):
        call("org.freedesktop.DBus.Properties", "Set",
             GLib.Variant("(ssv)", ("org.a11y.Status", status, GLib.Variant("b", True))), None)


def nodes(root):
    found = []

    def walk(node):
        for child in node:
            if child is not None:
                found.append(child)
                walk(child)

    walk(root)
    return found


def states(node):
    return {pyatspi.stateToString(s) for s in node.getState().getStates()}


def describe(node):
    return f"{node.getRoleName()} {node.name!r} ({node.description!r}) {sorted(states(node))}"


class Failed(Exception):
    pass


class Window:
    def __init__(self, process):
        self.process = process
        self.app = None

    def open(self):
        self.app = self.wait("the window on the accessibility bus", self.find_app)
        # Keys go to the window once it has the keyboard focus: a kiosk takes it itself.
        self.wait("the window to have the keyboard focus", lambda: next(
            (n for n in self.app if n is not None and "active" in states(n)), None))

    def find_app(self):
        for app in pyatspi.Registry.getDesktop(0):
            if app is not None and app.name == "netdeck":
                return app
        return None

    def wait(self, what, found):
        """Asks again every 50 ms until `found` gives something: the tree has no event a test
        could wait on for every change it makes."""
        deadline = time.monotonic() + PATIENCE
        while True:
            if self.process.poll() is not None:
                raise Failed(f"the window exited ({self.process.returncode}) before {what}")
            try:
                result = found()
            except Exception:  # a node went away while it was read: ask again
                result = None
            if result:
                return result
            if time.monotonic() > deadline:
                raise Failed(f"timed out waiting for {what}")
            time.sleep(0.05)

    def node(self, what, role, name):
        """The node with `role` whose name is `name`, or matches it when it is a function."""
        matches = name if callable(name) else (lambda text: text == name)
        return self.wait(what, lambda: next(
            (n for n in nodes(self.app) if n.getRoleName() == role and matches(n.name)), None))

    def labelled(self, description, matches, what):
        """A text whose description says what it is and whose name, its text, matches."""
        return self.wait(what, lambda: next(
            (n for n in nodes(self.app)
             if n.getRoleName() == "label" and n.description == description and matches(n.name)),
            None))

    def press(self, role, name):
        node = self.node(f"{role} {name!r}", role, name)
        actions = node.queryAction()
        assert actions.nActions > 0, f"{describe(node)} has no action"
        actions.doAction(0)
        return node

    def type_into(self, name, text):
        """Focuses the field, selects what it holds and types `text` over it, key by key."""
        def focused():
            # Asked again each time: a request made while the page was still being built (a tab
            # just switched, a slow machine) goes unheard, and the node found may be replaced.
            field = self.node(f"the {name} field", "entry", name)
            if "focused" in states(field):
                return field
            field.queryComponent().grabFocus()
            return None
        field = self.wait(f"the {name} field to take the focus", focused)
        content = field.queryText()
        held = content.characterCount
        content.addSelection(0, held)
        self.wait(f"what the {name} field holds to be selected", lambda: held == 0 or (
            content.getNSelections() == 1 and tuple(content.getSelection(0)) == (0, held)))
        for character in text:
            pyatspi.Registry.generateKeyboardEvent(0, character, pyatspi.KEY_STRING)
        try:
            self.wait(f"{text!r} in the {name} field", lambda: field.queryText().getText(0, -1) == text)
        except Failed:
            raise Failed(f"{text!r} was typed, but the {name} field holds {field.queryText().getText(0, -1)!r}")

    def checked(self, name):
        return "pressed" in states(self.node(name, "toggle button", name))

    def dump(self):
        if self.app is None:
            return "(the window is not on the accessibility bus)"
        return "\n".join(describe(n) for n in nodes(self.app))


def seed_flow(window):
    window.wait("the Server tab to be the one shown", lambda: window.checked("Server tab"))
    window.type_into("Port", "0")
    window.press("toggle button", "Mode: Echo")
    window.wait("Echo to be the mode chosen",
                lambda: window.checked("Mode: Echo") and not window.checked("Mode: Manual"))
    window.press("push button", "Start")
    status = window.labelled("Server status", lambda t: t.startswith("Listening on 127.0.0.1:"),
                             "the server status to say where it listens")
    port = int(status.name.removeprefix("Listening on 127.0.0.1:").split()[0])

    # The seed's client: connect, send, read the echo.
    with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as client:
        client.sendall(SEED_TEXT.encode())
        echoed = b""
        while len(echoed) < len(SEED_TEXT.encode()):
            got = client.recv(4096)
            if not got:
                raise Failed(f"the server closed the connection after echoing {echoed!r}")
            echoed += got
        assert echoed.decode() == SEED_TEXT, echoed
        peer = "127.0.0.1:%d" % client.getsockname()[1]

        row = window.node("the client's row", "list item",
                          lambda name: name.startswith(f"Client {peer}, since "))
        row.queryAction().doAction(0)
        window.node("the received text, as it was sent", "list item",
                    f"Received: {SEED_TEXT}")
        window.node("the echo, as it was sent back", "list item", f"Sent: {SEED_TEXT}")
        # DejaVu alone has no Hangul: the window draws escapes and says why, in words.
        window.labelled("Font note", lambda text: "Korean" in text, "the font note")

    # The seed's client is gone, and its row says how it ended.
    window.node("the ended client's row", "list item",
                lambda name: name.startswith(f"Client {peer}, ended: closed by peer"))

    # An error, read out: a second listener on the port the first one holds.
    window.type_into("Port", str(port))
    window.press("push button", "Start")
    refused = f"cannot listen on 127.0.0.1:{port}"
    window.node("the error under the Port field", "label", lambda t: t.startswith(refused))
    field = window.node("the Port field", "entry", "Port")
    assert field.description.startswith(refused), describe(field)

    # The Client tab talks to the server: both directions are read as the conversation.
    window.press("toggle button", "Client tab")
    window.wait("the Client tab to be the one shown", lambda: window.checked("Client tab"))
    window.type_into("Port", str(port))
    window.press("push button", "Connect")
    window.labelled("Client status", lambda t: t.startswith("Connected"),
                    "the client status to say it is connected")
    # An empty field reads its placeholder; a field being typed in has a clear button, found by
    # its name and pressed as a screen reader presses it.
    message = window.node("the Message field", "entry", "Message")
    attributes = dict(a.split(":", 1) for a in message.getAttributes())
    assert attributes.get("placeholder-text") == "what to send, e.g. hello\\n", attributes
    window.type_into("Message", "oops")
    window.press("push button", "Clear Message")
    window.wait("the Message field to be cleared", lambda: message.queryText().characterCount == 0)
    window.type_into("Message", "hi")
    window.press("push button", "Send message")
    window.node("the sent entry", "list item", "Sent: hi")
    window.node("the echoed entry", "list item", "Received: hi")

    # The Log tells the whole story, line by line. The kiosk's keyboard lifted the page to
    # show the Message field; Send put it away, so the tabs are back on the screen.
    window.wait("the keyboard to go after Send", lambda: not any(
        n.getRoleName() == "push button" and n.name == "Key Hide keyboard"
        for n in nodes(window.app)))
    window.press("toggle button", "Log tab")
    window.node("the log line of the seed's text", "list item",
                lambda name: SEED_TEXT in name)


def main():
    announce_screen_reader()
    window = Window(subprocess.Popen(sys.argv[1:]))
    try:
        window.open()
        seed_flow(window)
    except (Failed, AssertionError) as failure:
        print(f"FAILED: {failure}\nThe tree as the window exposed it:\n{window.dump()}",
              file=sys.stderr)
        sys.exit(1)
    finally:
        window.process.kill()
        window.process.wait()
    print("the seed's flow was read and driven through the accessibility tree")


if __name__ == "__main__":
    main()
