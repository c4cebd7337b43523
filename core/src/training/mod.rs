//! Safety training: signed course packs, reading, search, quizzes and progress.
//! (Being built; see issue "Safety training offline".)
