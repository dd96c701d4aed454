"""English texts of the owners' commands (merged into bot.locales.en.MESSAGES)."""

# ruff: noqa: E501  (one message per line reads better than split strings in a catalogue)
from __future__ import annotations

ADMIN_MESSAGES: dict[str, str] = {
    "admin_refused": "Only the bot's owners can do that.",
    "train_usage": (
        "/train SOURCE [options] trains a new face model in the background (one run at a time).\n\n"
        "SOURCE:\n"
        "• synthetic:N — N generated faces (e.g. synthetic:20000)\n"
        "• a folder of photos under the datasets folder, e.g. celeba/img_align_celeba (faces are found and aligned)\n"
        "• or send me a ZIP or tar of photos as a file: I unpack it into a new dataset; with the caption /train [options] training starts at once. {download_note}\n\n"
        "Options (all optional):\n"
        "• epochs=10 — passes over the data (1-500)\n"
        "• latent=32 — size of the face code (2-512)\n"
        "• size=64 — image side in pixels (32, 48, 64, 80, 96, 112, 128)\n"
        "• loss=mse or loss=ssim-l1 — reconstruction loss\n"
        "• align=no — use photos as they are, without face alignment\n"
        "• tune=20 — first tune latent size, decoder width, KL weight and learning rate by Bayesian optimisation with 20 short runs, then train the best\n\n"
        "Example: /train synthetic:20000 epochs=10 latent=32\n"
        "Then: /train_status, /train_cancel, /train_resume, /models, /use, /rollback, /audit."
    ),
    "download_note_cloud": "Telegram's cloud Bot API lets a bot download files of up to {limit_mb} MB; a self-hosted Bot API server (TELEGRAM_API_BASE_URL) lifts that to 2000 MB.",
    "download_note_local": "Through this self-hosted Bot API server files of up to {limit_mb} MB can be downloaded.",
    "train_option_unknown": "I don't know the option “{token}”. /train alone lists the options.",
    "train_option_malformed": "Options look like epochs=10, not “{token}”. /train alone lists them.",
    "train_option_bad_value": "“{token}” is out of range. /train alone lists what each option takes.",
    "train_option_repeated": "“{token}” is given twice. /train alone lists the options.",
    "train_source_outside": "I only read photos from the datasets folder: give a folder inside it (no absolute paths, no “..”, no links that lead out of it).",
    "train_source_missing": "There is no such folder in the datasets folder.",
    "train_source_not_folder": "That is not a folder of photos. Name a folder inside the datasets folder, or synthetic:N.",
    "train_source_link_out": "That folder contains links that lead out of the datasets folder, so I won't read it.",
    "train_source_bad_synthetic": "synthetic:N takes a number of faces from 2 to 200000, e.g. synthetic:20000.",
    "train_busy": "Training run #{run} is still going. One run at a time: /train_status shows it, /train_cancel stops it.",
    "train_preparing": "Training run #{run} ({source}, {epochs} epochs): preparing the data…",
    "train_resuming": "Training run #{run} ({source}) resumes after epoch {epoch} of {epochs}: preparing the data…",
    "train_progress": "Training run #{run} ({source}): epoch {epoch}/{epochs}, step {step}/{steps}\nloss {loss}, {speed} images/s, about {eta} left",
    "train_tuning": "Training run #{run} ({source}): tuning, trial {trial}/{trials}: held-out loss {loss} (best so far {best})",
    "train_measuring": "Training run #{run} ({source}): all {epochs} epochs done; measuring the model…",
    "train_final_done": "Training run #{run} ({source}): finished.",
    "train_final_failed": "Training run #{run} ({source}): failed.",
    "train_final_cancelled": "Training run #{run} ({source}): cancelled.",
    "train_epoch_caption": "Run #{run}, epoch {epoch}/{epochs}: faces drawn from the model (held-out PSNR {psnr} dB).",
    "train_tuned_caption": "Run #{run}: held-out loss of each tuning trial (lower is better). Best: trial #{best}. Training it in full now; the table is the file below.",
    "train_done": "Training run #{run} finished: model {version}.\n{metrics}\nActivate makes new searches use it; Discard deletes its checkpoints.",
    "train_cancelled": "Training run #{run} was cancelled after epoch {epoch} of {epochs}. Epoch {epoch}'s checkpoint is kept as model {version}.\n{metrics}",
    "train_cancelled_empty": "Training run #{run} was cancelled before its first epoch ended: nothing was kept. /train_resume starts it again.",
    "train_failed": "Training run #{run} failed: {reason}\n/train_resume tries again from its last epoch.",
    "train_interrupted": "The bot restarted while training run #{run} ({source}) was running; epoch {epoch} of {epochs} is kept as model {version}. Resume it?",
    "train_interrupted_empty": "The bot restarted while training run #{run} ({source}) was preparing or in its first epoch; nothing was kept yet. Start it again?",
    "train_status_running": "{progress}\nStarted {ago} ago by {who}.",
    "train_status_idle": "No training is running. Last run: #{run} ({source}), {state}, {epoch} of {epochs} epochs.",
    "train_status_none": "No training is running, and none has run yet. /train explains how to start one.",
    "state_done": "finished",
    "state_failed": "failed",
    "state_cancelled": "cancelled",
    "state_interrupted": "interrupted by a restart",
    "state_discarded": "discarded",
    "state_queued": "queued",
    "state_running": "running",
    "train_cancel_nothing": "No training is running.",
    "train_cancel_done": "Training run #{run} is stopped.",
    "train_resume_nothing": "There is no stopped run to resume.",
    "train_resume_busy": "Training run #{run} is still going: one run at a time.",
    "archive_too_big": "That file is larger than {limit_mb} MB, the most a bot can download through the Bot API it uses. Split the photos into several archives; a self-hosted Bot API server (TELEGRAM_API_BASE_URL) lifts the limit to 2000 MB.",
    "archive_downloading": "Got the archive; unpacking it…",
    "archive_unpacked": "Unpacked {images} photos into the dataset {label}. Skipped: {non_images} files that are not photos, {links} links or special files, {too_big} files too large.\nTrain on it: /train {label} epochs=10",
    "archive_not_archive": "That file is not a ZIP or tar archive.",
    "archive_damaged": "That archive is damaged: I couldn't read it to the end. Nothing was kept.",
    "archive_path_escape": "That archive names files outside itself (absolute paths or “..”), so I refused it whole. Nothing was kept.",
    "archive_too_many_files": "That archive holds more than {max_files} files. Split it, please. Nothing was kept.",
    "archive_too_large": "That archive unpacks to more than {max_gb} GB. Split it, please. Nothing was kept.",
    "archive_no_images": "There are no photos (JPEG, PNG, WebP, BMP, GIF, TIFF) in that archive.",
    "models_title": "Model versions, newest first (▶ active):",
    "models_row": "{mark} {version} · {origin} · {metrics} · open searches: {searches}{notes}",
    "models_origin_configured": "the configured model",
    "models_origin_run": "run #{run}, epoch {epoch}, {source}, by {who}",
    "models_missing": " · FILE MISSING",
    "models_loaded": " · in memory",
    "models_more": "…and {count} older versions.",
    "models_footer": "/use VERSION makes one active (its first characters will do); /rollback goes back to the previous one.",
    "metrics_none": "no figures yet",
    "use_usage": "Which version? /use VERSION; /models lists them.",
    "use_switched": "Model {version} is active: new searches use it now; searches already running keep their own model until they end.",
    "use_already": "Model {version} is already the active one.",
    "use_missing": "There is no model version starting with that. /models lists them.",
    "use_ambiguous": "Several versions start with that: type a few more characters. /models lists them.",
    "use_file_gone": "Model {version}'s file is gone, so it cannot be used.",
    "rollback_nothing": "There is no earlier model to go back to.",
    "rollback_switched": "Back to model {version}: new searches use it now; searches already running keep theirs.",
    "audit_title": "Latest admin actions (newest first):",
    "audit_row": "{when} · {who} · /{action} · {outcome}",
    "discard_done": "Discarded run #{run}: {removed} checkpoints deleted.",
    "discard_kept": "Discarded run #{run}: {removed} checkpoints deleted; {kept} kept because open searches still use them or one is active.",
    "discard_missing": "There is nothing of run #{run} to discard.",
    "discard_live": "Run #{run} is still going: /train_cancel first.",
    "button_activate": "Activate",
    "button_discard": "Discard",
    "button_resume": "Resume",
    "button_new_search": "Start a new search",
    "model_gone": "This search was started with a face model that is no longer available, so it cannot go on. Start a new search with the current model?",
}

ADMIN_COMMANDS: list[tuple[str, str]] = [
    ("train", "Owners: train a new face model"),
    ("train_status", "Owners: the training run's progress"),
    ("train_cancel", "Owners: stop the training run"),
    ("train_resume", "Owners: resume a stopped run"),
    ("models", "Owners: model versions"),
    ("use", "Owners: make a model version active"),
    ("rollback", "Owners: back to the previous model"),
    ("audit", "Owners: latest admin actions"),
]
