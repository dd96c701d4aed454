"""English: every message the bot sends. Plain text (no parse mode); {fields} via str.format."""

# ruff: noqa: E501  (one message per line reads better than split strings in a catalogue)
from __future__ import annotations

from bot.locales.admin_en import ADMIN_COMMANDS, ADMIN_MESSAGES

MESSAGES: dict[str, str] = {
    "greeting": (
        "Hi {name}! I'm Fotorobot: I build the face you have in mind.\n\n"
        "Think of a face. I'll send albums of faces; you rate how close each one is, and every "
        "album gets closer. A few dozen ratings are usually enough.\n\n"
        "How to rate:\n"
        "• one number per face, in order: 8 3 5 6\n"
        "• one face at a time: #2 9\n"
        "• reply to a photo with a number or an emoji: 🔥 ❤️ 👍 🙂 😐 🙁 👎 🤮 or ⭐⭐⭐\n\n"
        "You can also send me a photo of a face to start from it. /help lists everything."
    ),
    "new_search": "A new face from scratch, {name}! Here is the first album.",
    "prompt": (
        "Rate each face {low}-{high} ({low}: nothing like it, {high}: that's the face).\n"
        "Reply {example}, or #2 {one} for one face, or reply to a photo with a number or 🔥."
    ),
    "progress": "Got {rated} of {total} ratings, missing {missing}. /next moves on anyway.",
    "no_round": "There is no album to rate yet. Send /start to begin.",
    "next_needs_rating": "Rate at least one face first; then /next brings a new album.",
    "round_closed": "That album is already closed: please rate the newest one.",
    "edit_closed": "Your edit came after that album closed, so the earlier rating stands.",
    "no_best": "Nothing is rated yet, so there is no best face. Rate the album first.",
    "best_caption": "Best so far: rating {rating} (round {round}, face #{position}).",
    "no_history": "No faces yet. Send /start to begin.",
    "history_caption": "Every face so far (the latest 160 in a long search), labelled round#face and average rating.",
    "no_morph": "I need at least one rated album before I can make the morph.",
    "morph_caption": "From your favourite of the first album to the best face so far.",
    "undone": "Took back your rating {value} for #{position}.",
    "nothing_to_undo": "Nothing to undo: you have no rating in the current album.",
    "help": (
        "I build the face you have in mind from your ratings.\n\n"
        "Each album has {album_size} faces. Rate them {low}-{high}:\n"
        "• in order: {example}\n"
        "• one face: #2 {one}  (also 2: {one} or 2-{one})\n"
        "• reply to a photo with a number, an emoji (🔥 ❤️ 👍 🙂 😐 🙁 👎 🤮) or 1-5 stars ⭐\n"
        "When every face is rated, the next album comes by itself.\n\n"
        "/next: next album now (after at least one rating)\n"
        "/best: the closest face so far\n"
        "/history: every face with its rating\n"
        "/morph: an animation from your first favourite to the best face\n"
        "/undo: take back your last rating\n"
        "/new: start a new face\n"
        "/lang: English / Русский\n\n"
        "Send a photo of a face to put it into the next album."
    ),
    "lang_usage": "Choose a language: /lang en or /lang ru (available: {languages}).",
    "lang_set": "Okay, I'll speak English here.",
    "button_next": "Next album ▶",
    "button_best": "Best so far",
    "button_undo": "Undo",
    "upload_queued": "Got your photo: that face goes into the next album.",
    "upload_not_image": "That file isn't a picture I can read. Send a photo (JPEG or PNG) of a face.",
    "upload_too_big": "That image is too large (over {limit_mb} MB). Please send a smaller photo.",
    "upload_no_face": "I couldn't find a face in that photo. Send one where a face looks at the camera, not too small and not turned away.",
    "upload_bomb": "That image is too large to unpack safely. Please send an ordinary photo.",
    "unsupported": (
        "I can't rate with that kind of message. Type your ratings (like #2 9 or 🔥), "
        "send a photo of a face, or see /help."
    ),
    "sticker": "Nice sticker! To rate, type a number or an emoji like 🔥 or 👎. /help shows how.",
    "voice": "I can't listen to voice messages. Please type your ratings, like #2 9.",
    "unknown_command": "I don't know that command. /help lists what I can do.",
    "error": "Something went wrong on my side. Please try again in a moment.",
    "rating_hint": "For example: {example}, or #2 {one}, or reply to a photo with 🔥.",
    "rating_error_empty": "That message is empty.",
    "rating_error_command": "That looks like a command, not a rating.",
    "rating_error_too_long": "That is too long for a rating (over {max} characters).",
    "rating_error_unreadable": "I couldn't find ratings in that.",
    "rating_error_out_of_range": "{value} is off the scale: please use {low} to {high}.",
    "rating_error_wrong_scale": "Here ratings go {low}-{high}, so write x/{high}, not x/{denominator}.",
    "rating_error_bad_position": "There is no face #{position}: this album has #1-#{album_size}.",
    "rating_error_duplicate": "Face #{position} got two ratings ({values}). Give each face one.",
    "rating_error_mixed": "Please write either one rating per face in order, or #face rating pairs.",
    "rating_error_ambiguous": "Which face gets {value}? Reply to that photo with it, or write #2 {value}.",
    "rating_error_wrong_count": (
        "I got {got} ratings for {expected} faces. Give one per face in order, "
        "or pick faces with #."
    ),
    # Group rounds: the poll, the tally, who steers, /settings.
    "poll_question": "Which faces look closest to the one you have in mind? Choose one or more.",
    "group_prompt": "Vote in the poll for the faces closest to the one you have in mind, or reply to a photo with a rating {low}-{high}.",
    "tally_none": "No votes yet. The round closes when {quorum} have voted, or {deadline} after the first vote.",
    "tally_none_no_deadline": "No votes yet. The round closes when {quorum} have voted.",
    "tally_open": "🗳 {voters} of {quorum} voted · closest so far: #{leader} · closes in {left} at the latest",
    "tally_open_no_deadline": "🗳 {voters} of {quorum} voted · closest so far: #{leader}",
    "tally_names": "Voted: {names}",
    "anonymous_voter": "an anonymous admin",
    "round_summary": "Round {round} closed: {voters} took part. The group's closest face: #{leader}.",
    "round_summary_none": "Round {round} closed without votes.",
    "duration_s": "{seconds} s",
    "duration_min": "{minutes} min",
    "duration_min_s": "{minutes} min {seconds} s",
    "group_next_refused": "Only the group's admins or whoever started this search can move on. Vote in the poll instead: the round closes by itself.",
    "group_new_requested": "{name} would like to start a new face: {count} of {needed} agree so far. Send /new too if you agree; an admin's /new starts one at once.",
    "group_resent": "This chat became a supergroup, so here is the current album again. Votes so far are kept ({voters}).",
    "settings_refused": "Only the group's admins can change its settings.",
    "settings_show": (
        "Settings of this chat:\n"
        "• quorum: {quorum} voters close a round (at most everyone but me)\n"
        "• deadline: {deadline} after the first vote\n"
        "• album: {album_size} faces\n"
        "• scale: {low}-{high}\n"
        "• language: {language}\n"
        "• names in results: {names}\n\n"
        "Use the buttons, or for example: /settings quorum 4, /settings deadline 3m, "
        "/settings album 6, /settings scale 1-5, /settings language ru, /settings names on."
    ),
    "settings_show_private": (
        "Settings of this chat:\n"
        "• album: {album_size} faces\n"
        "• scale: {low}-{high}\n"
        "• language: {language}\n\n"
        "Use the buttons, or for example: /settings album 6, /settings scale 1-5, /settings language ru."
    ),
    "settings_changed": "Done: {setting} is now {value}.",
    "settings_usage": "I can't set that. For example: /settings quorum 4 (1-50), deadline 3m (10s to 24h, or off), album 6 (2-10), scale 1-5, language ru, names on.",
    "settings_usage_private": "I can't set that. For example: /settings album 6 (2-10), scale 1-5, language ru.",
    "setting_quorum": "Quorum",
    "setting_deadline": "Deadline",
    "setting_album": "Album",
    "setting_scale": "Scale",
    "setting_language": "Language",
    "setting_names": "Names",
    "button_setting_down": "{setting}: less",
    "button_setting_up": "{setting}: more",
    "button_setting_cycle": "{setting}: {value} (change)",
    "deadline_off": "no deadline",
    "names_on": "shown",
    "names_off": "hidden",
    "help_group": (
        "In a group: vote in each album's poll (several faces are fine) or reply to a photo with a "
        "rating. A round closes when enough people have voted, or a while after the first vote; "
        "admins and whoever started the search can press Next. A /new from anyone else needs a "
        "few members to agree. Admins: /settings (quorum, deadline, album size, scale, language, "
        "names in results)."
    ),
    "help_settings": "/settings: album size, rating scale, language",
}

COMMANDS: list[tuple[str, str]] = [
    ("start", "Start: greeting and the first album"),
    ("new", "Start a new face from scratch"),
    ("next", "Next album now"),
    ("best", "The closest face so far"),
    ("history", "Every face with its rating"),
    ("morph", "Animation from first favourite to best"),
    ("undo", "Take back my last rating"),
    ("lang", "Language: English / Русский"),
    ("settings", "Album size, scale, language; group voting"),
    ("help", "How to rate, all commands"),
]

# The owners' commands (issue 12) keep their texts in a module of their own; one catalogue here.
MESSAGES.update(ADMIN_MESSAGES)
__all__ = ["ADMIN_COMMANDS", "COMMANDS", "MESSAGES"]
