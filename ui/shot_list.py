"""A read-only outline of scenes and shots (the full timeline comes with its own issue)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

from app.document import Project
from app.timecode import format_duration

COLUMNS = ("Shot", "Duration", "Frames", "Pins", "Camera", "Clip", "Action")


class ShotList(QTreeWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(COLUMNS)
        self.setAlternatingRowColors(True)
        self.setUniformRowHeights(True)
        self.setRootIsDecorated(True)
        for col, width in enumerate((90, 100, 60, 90, 150, 70)):
            self.setColumnWidth(col, width)

    def show_project(self, project: Project | None) -> None:
        self.clear()
        if project is None:
            return
        for index, scene in enumerate(project.scenes, 1):
            scene_item = QTreeWidgetItem([f"Scene {index}", "", "", "", "", "", scene.heading])
            font = scene_item.font(0)
            font.setBold(True)
            for col in range(len(COLUMNS)):
                scene_item.setFont(col, font)
            scene_item.setFirstColumnSpanned(False)
            self.addTopLevelItem(scene_item)
            for shot in scene.shots:
                cam = shot.camera
                camera = " · ".join(x for x in (cam.size, f"{cam.lens_mm:g}mm" if cam.lens_mm else "", cam.move) if x)
                clip = "—" if shot.current_clip is None else ("stale" if project.is_stale(shot) else "current")
                item = QTreeWidgetItem(
                    [
                        shot.number,
                        format_duration(shot.duration, project.rate, drop_frame=project.drop_frame),
                        str(shot.duration),
                        ", ".join(str(p.frame) for p in shot.pins) or "—",
                        camera,
                        clip,
                        shot.action,
                    ]
                )
                item.setData(0, Qt.ItemDataRole.UserRole, shot.id)
                item.setToolTip(6, shot.action)
                scene_item.addChild(item)
            scene_item.setExpanded(True)

    def shot_numbers(self) -> list[str]:
        """Shot numbers in display order (used by tests to read what a person sees)."""
        out = []
        for i in range(self.topLevelItemCount()):
            scene = self.topLevelItem(i)
            out.extend(scene.child(j).text(0) for j in range(scene.childCount()))
        return out
