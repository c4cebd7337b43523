import SwiftUI
import UIKit
import Waystation

/// The installed safety courses with the rider's progress.
struct CoursesView: View {
    @EnvironmentObject private var model: AppModel
    @State private var courses: [CourseSummary] = []
    @State private var message: String?

    var body: some View {
        List {
            if let message { Text(message).foregroundStyle(.secondary) }
            ForEach(courses, id: \.id) { course in
                NavigationLink { CourseView(courseId: course.id) } label: {
                    VStack(alignment: .leading, spacing: 4) {
                        Text((course.completedLessons == course.lessonCount ? "✓ " : "") + course.title.text).bold()
                        Text(L.t("\(course.completedLessons)/\(course.lessonCount) 课 · \(course.minutes) 分钟",
                                 "\(course.completedLessons)/\(course.lessonCount) lessons · \(course.minutes) min"))
                            .font(.subheadline)
                        if course.quizId != nil { Text(quizText(course)).font(.footnote).foregroundStyle(.secondary) }
                    }
                }
            }
        }
        .navigationTitle(L.t("安全培训", "Safety training"))
        .task { await load() }
        .onChange(of: model.packsReady) { _ in Task { await load() } }
    }

    private func quizText(_ c: CourseSummary) -> String {
        guard let best = c.bestScorePercent else { return L.t("测验：未参加", "Quiz: not taken") }
        return c.passed ? L.t("测验：最高 \(best)%，已通过", "Quiz: best \(best)%, passed")
            : L.t("测验：最高 \(best)%，未通过", "Quiz: best \(best)%, not passed")
    }

    @MainActor
    private func load() async {
        let user = model.user
        do { courses = try await model.run { core in try core.training().courses(userId: user) } } catch { message = describe(error) }
    }
}

/// One course: lessons in reading order, and its quiz.
struct CourseView: View {
    let courseId: String
    @EnvironmentObject private var model: AppModel
    @State private var detail: CourseDetail?

    var body: some View {
        List {
            if let detail {
                ForEach(detail.lessons, id: \.id) { lesson in
                    NavigationLink { LessonScreen(lessonId: lesson.id) } label: {
                        Text((lesson.completedAt != nil ? "✓ " : "") + lesson.title.text)
                    }
                }
                if let quizId = detail.course.quizId {
                    NavigationLink(L.t("测验", "Quiz")) { QuizScreen(quizId: quizId) }
                }
            }
        }
        .navigationTitle(detail?.course.title.text ?? "")
        .task {
            let user = model.user
            let id = courseId
            detail = try? await model.run { core in try core.training().course(userId: user, courseId: id) }
        }
    }
}

/// A lesson to read (Markdown), with its images and the laws it cites; "Done" records the
/// completion. An image the phone does not have yet (a pack fetch downloads it) or cannot
/// read is shown as its alt text.
struct LessonScreen: View {
    let lessonId: String
    @EnvironmentObject private var model: AppModel
    @State private var lesson: LessonView?
    /// The images the phone has, by SHA-256.
    @State private var pictures: [String: UIImage] = [:]
    @State private var done = false

    var body: some View {
        ScrollView {
            if let lesson {
                VStack(alignment: .leading, spacing: 12) {
                    Text(lesson.title.text).font(.title2).bold()
                    // SwiftUI renders inline Markdown; the body is shown as given.
                    Text(.init(lesson.body.text))
                    ForEach(Array(lesson.images.enumerated()), id: \.offset) { _, image in
                        if let picture = pictures[image.sha256] {
                            Image(uiImage: picture).resizable().scaledToFit()
                                .accessibilityLabel(image.alt.text)
                        } else {
                            Text(image.alt.text).font(.footnote).foregroundStyle(.secondary)
                        }
                    }
                    ForEach(lesson.sources, id: \.self) { source in
                        Text([source.title, source.article ?? ""].joined(separator: " "))
                            .font(.footnote).foregroundStyle(.secondary)
                    }
                    Button(done ? L.t("已学完", "Completed") : L.t("学完了", "Done")) { complete() }
                        .disabled(done)
                }
                .padding()
            }
        }
        .task {
            let id = lessonId
            let loaded = try? await model.run { core -> (LessonView, [String: String]) in
                let lesson = try core.training().lesson(lessonId: id)
                var paths: [String: String] = [:]
                for image in lesson.images {
                    paths[image.sha256] = try core.training().imagePath(sha256: image.sha256)
                }
                return (lesson, paths)
            }
            pictures = (loaded?.1 ?? [:]).compactMapValues { UIImage(contentsOfFile: $0) }
            lesson = loaded?.0
        }
    }

    private func complete() {
        let user = model.user
        let id = lessonId
        Task { @MainActor in
            done = (try? await model.run { core in try core.training().completeLesson(userId: user, lessonId: id) }) != nil
            model.sync.refresh()
        }
    }
}

/// A quiz: one choice or several per question; graded and recorded when submitted.
struct QuizScreen: View {
    let quizId: String
    @EnvironmentObject private var model: AppModel
    @State private var quiz: QuizView?
    @State private var chosen: [String: Set<Int32>] = [:]
    @State private var result: QuizResult?
    @State private var message: String?

    var body: some View {
        List {
            if let message { Text(message).foregroundStyle(.secondary) }
            if let result {
                Section {
                    Text("\(result.scorePercent)% (\(result.correctCount)/\(result.questionCount))").font(.title2)
                    Text(result.passed ? L.t("通过", "Passed") : L.t("未通过，需 \(result.passPercent)%", "Not passed: \(result.passPercent)% needed"))
                }
                ForEach(result.questions, id: \.questionId) { q in
                    VStack(alignment: .leading) {
                        Text(q.correct ? "✓" : "✗").foregroundStyle(q.correct ? Color.green : Color.red)
                        Text(q.explanation.text).font(.footnote)
                    }
                }
            } else if let quiz {
                ForEach(quiz.questions, id: \.id) { q in
                    Section(q.prompt.text) {
                        ForEach(Array(q.choices.enumerated()), id: \.offset) { index, choice in
                            let i = Int32(index)
                            Button {
                                choose(q, i)
                            } label: {
                                Label(choice.text, systemImage: (chosen[q.id] ?? []).contains(i)
                                    ? (q.kind == QuestionKind.multiple ? "checkmark.square" : "largecircle.fill.circle")
                                    : (q.kind == QuestionKind.multiple ? "square" : "circle"))
                            }
                        }
                    }
                }
                Button(L.t("提交答案", "Submit answers")) { submit() }
            }
        }
        .navigationTitle(L.t("测验", "Quiz"))
        .task {
            let id = quizId
            do { quiz = try await model.run { core in try core.training().quiz(quizId: id) } } catch { message = describe(error) }
        }
    }

    private func choose(_ q: QuizQuestion, _ i: Int32) {
        var set = chosen[q.id] ?? []
        if q.kind == QuestionKind.single {
            set = [i]
        } else if set.contains(i) {
            set.remove(i)
        } else {
            set.insert(i)
        }
        chosen[q.id] = set
    }

    private func submit() {
        guard let quiz else { return }
        let user = model.user
        let answers = quiz.questions.map { QuizAnswer(questionId: $0.id, choices: (chosen[$0.id] ?? []).sorted()) }
        let id = quizId
        Task { @MainActor in
            do {
                result = try await model.run { core in try core.training().answerQuiz(userId: user, quizId: id, answers: answers) }
                model.sync.refresh()
            } catch { message = describe(error) }
        }
    }
}
