"""Русские тексты команд владельцев (добавляются в bot.locales.ru.MESSAGES)."""

# ruff: noqa: E501  (one message per line reads better than split strings in a catalogue)
from __future__ import annotations

ADMIN_MESSAGES: dict[str, str] = {
    "admin_refused": "Это могут только владельцы бота.",
    "train_usage": (
        "/train ИСТОЧНИК [параметры] обучает новую модель лиц в фоне (по одному запуску за раз).\n\n"
        "ИСТОЧНИК:\n"
        "• synthetic:N — N сгенерированных лиц (например, synthetic:20000)\n"
        "• папка с фото внутри папки датасетов, например celeba/img_align_celeba (лица находятся и выравниваются)\n"
        "• или пришлите мне ZIP или tar с фото файлом: я распакую его в новый датасет; с подписью /train [параметры] обучение начнётся сразу. {download_note}\n\n"
        "Параметры (все необязательны):\n"
        "• epochs=10 — проходов по данным (1-500)\n"
        "• latent=32 — размер кода лица (2-512)\n"
        "• size=64 — сторона изображения в пикселях (32, 48, 64, 80, 96, 112, 128)\n"
        "• loss=mse или loss=ssim-l1 — функция потерь реконструкции\n"
        "• align=no — брать фото как есть, без выравнивания лица\n"
        "• tune=20 — сначала подобрать размер кода, ширину декодера, вес KL и скорость обучения байесовской оптимизацией за 20 коротких запусков, затем обучить лучший вариант\n\n"
        "Пример: /train synthetic:20000 epochs=10 latent=32\n"
        "Дальше: /train_status, /train_cancel, /train_resume, /models, /use, /rollback, /audit."
    ),
    "download_note_cloud": "Облачный Bot API Telegram даёт боту скачивать файлы до {limit_mb} МБ; свой сервер Bot API (TELEGRAM_API_BASE_URL) поднимает предел до 2000 МБ.",
    "download_note_local": "Через этот собственный сервер Bot API можно скачивать файлы до {limit_mb} МБ.",
    "train_option_unknown": "Не знаю параметра «{token}». /train без аргументов перечисляет параметры.",
    "train_option_malformed": "Параметры пишутся как epochs=10, а не «{token}». /train без аргументов их перечисляет.",
    "train_option_bad_value": "«{token}» вне допустимых значений. /train без аргументов объясняет каждый параметр.",
    "train_option_repeated": "«{token}» указан дважды. /train без аргументов перечисляет параметры.",
    "train_source_outside": "Я читаю фото только из папки датасетов: укажите папку внутри неё (без абсолютных путей, без «..», без ссылок наружу).",
    "train_source_missing": "В папке датасетов нет такой папки.",
    "train_source_not_folder": "Это не папка с фото. Укажите папку внутри папки датасетов или synthetic:N.",
    "train_source_link_out": "В этой папке есть ссылки, ведущие за пределы папки датасетов, поэтому я её читать не буду.",
    "train_source_bad_synthetic": "synthetic:N принимает число лиц от 2 до 200000, например synthetic:20000.",
    "train_busy": "Запуск обучения #{run} ещё идёт. По одному за раз: /train_status покажет его, /train_cancel остановит.",
    "train_preparing": "Запуск обучения #{run} ({source}, эпох: {epochs}): готовлю данные…",
    "train_resuming": "Запуск обучения #{run} ({source}) продолжается после эпохи {epoch} из {epochs}: готовлю данные…",
    "train_progress": "Запуск обучения #{run} ({source}): эпоха {epoch}/{epochs}, шаг {step}/{steps}\nпотери {loss}, {speed} изобр./с, осталось около {eta}",
    "train_tuning": "Запуск обучения #{run} ({source}): подбор параметров, проба {trial}/{trials}: потери на отложенных {loss} (лучшие пока {best})",
    "train_measuring": "Запуск обучения #{run} ({source}): все {epochs} эпох пройдены; измеряю модель…",
    "train_final_done": "Запуск обучения #{run} ({source}): завершён.",
    "train_final_failed": "Запуск обучения #{run} ({source}): ошибка.",
    "train_final_cancelled": "Запуск обучения #{run} ({source}): отменён.",
    "train_epoch_caption": "Запуск #{run}, эпоха {epoch}/{epochs}: лица, нарисованные моделью (PSNR на отложенных {psnr} дБ).",
    "train_tuned_caption": "Запуск #{run}: потери на отложенных для каждой пробы подбора (меньше — лучше). Лучшая: проба #{best}. Теперь обучаю её полностью; таблица — файлом ниже.",
    "train_done": "Запуск обучения #{run} завершён: модель {version}.\n{metrics}\n«Включить» — новые поиски будут использовать её; «Удалить» — стереть её контрольные точки.",
    "train_cancelled": "Запуск обучения #{run} отменён после эпохи {epoch} из {epochs}. Контрольная точка эпохи {epoch} сохранена как модель {version}.\n{metrics}",
    "train_cancelled_empty": "Запуск обучения #{run} отменён до конца первой эпохи: ничего не сохранено. /train_resume запустит его снова.",
    "train_failed": "Запуск обучения #{run} завершился ошибкой: {reason}\n/train_resume попробует снова с последней эпохи.",
    "train_interrupted": "Бот перезапустился во время запуска обучения #{run} ({source}); эпоха {epoch} из {epochs} сохранена как модель {version}. Продолжить?",
    "train_interrupted_empty": "Бот перезапустился, когда запуск обучения #{run} ({source}) готовил данные или шёл первой эпохой; сохранить ещё ничего не успели. Запустить заново?",
    "train_status_running": "{progress}\nЗапущен {ago} назад, кем: {who}.",
    "train_status_idle": "Обучение не идёт. Последний запуск: #{run} ({source}), {state}, эпох: {epoch} из {epochs}.",
    "train_status_none": "Обучение не идёт и ещё не запускалось. /train объясняет, как начать.",
    "state_done": "завершён",
    "state_failed": "ошибка",
    "state_cancelled": "отменён",
    "state_interrupted": "прерван перезапуском",
    "state_discarded": "удалён",
    "state_queued": "в очереди",
    "state_running": "идёт",
    "train_cancel_nothing": "Обучение не идёт.",
    "train_cancel_done": "Запуск обучения #{run} остановлен.",
    "train_resume_nothing": "Нет остановленного запуска, который можно продолжить.",
    "train_resume_busy": "Запуск обучения #{run} ещё идёт: по одному за раз.",
    "archive_too_big": "Файл больше {limit_mb} МБ — это предел скачивания для бота через его Bot API. Разбейте фото на несколько архивов; свой сервер Bot API (TELEGRAM_API_BASE_URL) поднимает предел до 2000 МБ.",
    "archive_downloading": "Архив получен, распаковываю…",
    "archive_unpacked": "Распаковано фото: {images}, в датасет {label}. Пропущено: не фото — {non_images}, ссылок и особых файлов — {links}, слишком больших — {too_big}.\nОбучить на нём: /train {label} epochs=10",
    "archive_not_archive": "Это не архив ZIP или tar.",
    "archive_damaged": "Архив повреждён: не удалось дочитать его до конца. Ничего не сохранено.",
    "archive_path_escape": "В архиве есть пути за его пределы (абсолютные или с «..»), поэтому я отклонил его целиком. Ничего не сохранено.",
    "archive_too_many_files": "В архиве больше {max_files} файлов. Разбейте его, пожалуйста. Ничего не сохранено.",
    "archive_too_large": "Архив распаковывается больше чем в {max_gb} ГБ. Разбейте его, пожалуйста. Ничего не сохранено.",
    "archive_no_images": "В архиве нет фото (JPEG, PNG, WebP, BMP, GIF, TIFF).",
    "models_title": "Версии модели, новые сверху (▶ активная):",
    "models_row": "{mark} {version} · {origin} · {metrics} · открытых поисков: {searches}{notes}",
    "models_origin_configured": "модель из настроек",
    "models_origin_run": "запуск #{run}, эпоха {epoch}, {source}, обучил {who}",
    "models_missing": " · ФАЙЛА НЕТ",
    "models_loaded": " · в памяти",
    "models_more": "…и ещё старых версий: {count}.",
    "models_footer": "/use ВЕРСИЯ делает её активной (хватит первых символов); /rollback возвращает предыдущую.",
    "metrics_none": "измерений пока нет",
    "use_usage": "Какую версию? /use ВЕРСИЯ; список — /models.",
    "use_switched": "Модель {version} активна: новые поиски используют её сразу; уже идущие поиски остаются со своей моделью до конца.",
    "use_already": "Модель {version} и так активна.",
    "use_missing": "Нет версии модели, которая так начинается. Список — /models.",
    "use_ambiguous": "Так начинаются несколько версий: допишите ещё пару символов. Список — /models.",
    "use_file_gone": "Файла модели {version} больше нет, её нельзя включить.",
    "rollback_nothing": "Возвращаться не к чему: более ранней модели нет.",
    "rollback_switched": "Вернулись к модели {version}: новые поиски используют её; идущие остаются со своей.",
    "audit_title": "Последние действия администраторов (новые сверху):",
    "audit_row": "{when} · {who} · /{action} · итог: {outcome}",
    "discard_done": "Запуск #{run} удалён: стёрто контрольных точек: {removed}.",
    "discard_kept": "Запуск #{run} удалён: стёрто контрольных точек: {removed}; оставлено {kept}, потому что их используют открытые поиски или одна активна.",
    "discard_missing": "От запуска #{run} удалять нечего.",
    "discard_live": "Запуск #{run} ещё идёт: сначала /train_cancel.",
    "button_activate": "Включить",
    "button_discard": "Удалить",
    "button_resume": "Продолжить",
    "button_new_search": "Начать новый поиск",
    "model_gone": "Этот поиск начат с моделью лиц, которой больше нет, поэтому продолжить его нельзя. Начать новый поиск с текущей моделью?",
}

ADMIN_COMMANDS: list[tuple[str, str]] = [
    ("train", "Владельцам: обучить новую модель лиц"),
    ("train_status", "Владельцам: ход обучения"),
    ("train_cancel", "Владельцам: остановить обучение"),
    ("train_resume", "Владельцам: продолжить остановленный запуск"),
    ("models", "Владельцам: версии модели"),
    ("use", "Владельцам: включить версию модели"),
    ("rollback", "Владельцам: вернуть предыдущую модель"),
    ("audit", "Владельцам: последние действия"),
]
