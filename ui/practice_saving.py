"""Saving a practice session with its visit, and linking its optional recording (a mixin of
:class:`ui.practice_panel.PracticePanel`, which owns the attributes used here).

Saves run off the GUI thread (:class:`ui.tasks.BackgroundTask`) and replace the session's row
each time (:func:`app.practice.store.save_session`), so the autosave and the final save never
make two rows; a failed save keeps the session in memory with a "Save again" button.
"""

from __future__ import annotations

import time

from app.practice.store import row_values, save_values
from ui.practice_widgets import mmss, pct
from ui.tasks import BackgroundTask, user_message


class PracticeSavingMixin:
    def save(self, *, final: bool = False) -> None:
        """Save the session with its visit, off the GUI thread (the row is replaced each time)."""
        s, ctx = self.session, self.context
        if s is None or ctx is None or s.started_at is None:
            return
        duration = s.elapsed(time.monotonic())
        db, visit = self.clinic.db, ctx.visit_id
        values = row_values(s, visit, duration)  # snapshot here: the session keeps changing
        task = BackgroundTask(lambda _p, _c: save_values(db, values), parent=self,
                              show_dialog=False)  # fmt: skip

        def done(row: object) -> None:
            self._forget(task)
            self.last_saved_id = int(row)  # type: ignore[call-overload]
            self.save_error = ""
            self.save_button.hide()
            if final:
                t = s.totals()
                self._result(
                    f"Session saved with the visit: {mmss(duration)}, on target "
                    f"{pct(t.percent(True))} with the metronome, {pct(t.percent(False))} without.",
                    ok=True,
                )
                self.session_saved.emit(visit)

        def failed(exc: object) -> None:
            self._forget(task)
            self.save_error = user_message(exc)  # type: ignore[arg-type]
            self._result(f"The session could not be saved: {self.save_error} It is kept here; "
                         "press “Save again”.", ok=False)  # fmt: skip
            self.save_button.show()

        task.finished.connect(done)
        task.failed.connect(failed)
        self._tasks.append(task)
        task.start()

    def _forget(self, task: BackgroundTask) -> None:
        if task in self._tasks:
            self._tasks.remove(task)

    def _take_recording(self) -> None:
        rec = self.recorder
        if not self._recording_pending or rec is None or rec.is_recording:
            return
        self._recording_pending = False
        r = rec.last_result
        if r is None or not r.written or not r.path.exists():
            return
        if self.session is not None:
            self.session.recording_path = str(r.path)
        fps = float(r.measured_fps or r.requested_fps)
        if self.context is not None:
            try:
                from app.records.recordings import add_existing_file

                add_existing_file(self.clinic.db, self.clinic.videos_root, self.context.visit_id,
                                  r.path, capture_fps=fps, view="side")  # fmt: skip
            except Exception as exc:  # the file stays where it is: nothing is lost
                self._result(f"The video is saved as {r.path}, but could not be added to the "
                             f"visit: {user_message(exc)}", ok=False)  # fmt: skip
        self.recording_saved.emit(str(r.path), fps)

