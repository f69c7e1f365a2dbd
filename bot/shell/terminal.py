"""The sandbox at a terminal: lines typed at a prompt, forms filled one field at a time."""

from __future__ import annotations

import asyncio
import threading

from bot.shell.session import Cancelled, Console, Done, FieldPrompt


class TerminalConsole:
    def show(self, text: str) -> None:
        print(text, flush=True)

    async def ask(self, prompt: str) -> str | None:
        # input() blocks, so it runs on a thread of its own; a daemon one, so that Ctrl-C ends
        # the session at once instead of waiting for the line being typed.
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[str | None] = loop.create_future()

        def read() -> None:
            try:
                line: str | None = input(prompt)
            except EOFError:
                line = None
            loop.call_soon_threadsafe(_settle, answer, line)

        threading.Thread(target=read, name="shell-input", daemon=True).start()
        return await answer


def _settle(answer: asyncio.Future[str | None], line: str | None) -> None:
    if not answer.done():
        answer.set_result(line)


class PromptedReplies:
    """Asks a person at the terminal for each field of a form."""

    def __init__(self, console: Console) -> None:
        self.console = console

    async def field(self, prompt: FieldPrompt, problem: str | None) -> str | None:
        if prompt.choices:
            self.console.show(f"    ({prompt.choices})")
        optional = " (optional)" if prompt.optional else ""
        current = f" [{prompt.current}]" if prompt.current else ""
        answer = await self.console.ask(f"  {prompt.label}{optional}{current}> ")
        if answer is None:
            raise Cancelled("input ended")
        answer = answer.strip()
        if answer == ":cancel":
            raise Cancelled("cancelled")
        if answer == ":done":
            raise Done()
        return answer or None

    async def confirm(self, title: str, question: str, yes: str) -> bool:
        answer = await self.console.ask(f"  {title} {question} ({yes}? y/N)> ")
        return (answer or "").strip().lower() in ("y", "yes", yes.lower())
