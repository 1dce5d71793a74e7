using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace ModelGen.Analyzers.CodeFixes;

/// <summary>MG0011: makes a [Model] class partial (<c>public class M</c> → <c>public partial class M</c>).</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MakePartialCodeFix)), Shared]
public sealed class MakePartialCodeFix : CodeFixProvider
{
    public const string Title = "Make the [Model] class partial";

    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(Descriptors.NotPartial.Id);

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null) return;
        foreach (var diagnostic in context.Diagnostics)
        {
            var declaration = root.FindToken(diagnostic.Location.SourceSpan.Start).Parent?.AncestorsAndSelf().OfType<ClassDeclarationSyntax>().FirstOrDefault();
            if (declaration is null || declaration.Modifiers.Any(SyntaxKind.PartialKeyword)) continue;
            context.RegisterCodeFix(
                CodeAction.Create(Title, ct => MakePartialAsync(context.Document, declaration, ct), equivalenceKey: Title),
                diagnostic);
        }
    }

    private static async Task<Document> MakePartialAsync(Document document, ClassDeclarationSyntax declaration, CancellationToken ct)
    {
        var root = await document.GetSyntaxRootAsync(ct).ConfigureAwait(false);
        if (root is null) return document;
        return document.WithSyntaxRoot(root.ReplaceNode(declaration, MakePartial(declaration)));
    }

    /// <summary>Adds 'partial' as the last modifier (it must come right before 'class'), keeping the trivia in place.</summary>
    public static ClassDeclarationSyntax MakePartial(ClassDeclarationSyntax declaration)
    {
        if (declaration.Modifiers.Count == 0)
        {
            var keyword = declaration.Keyword;
            var partial = SyntaxFactory.Token(keyword.LeadingTrivia, SyntaxKind.PartialKeyword, SyntaxFactory.TriviaList(SyntaxFactory.Space));
            return declaration.WithKeyword(keyword.WithLeadingTrivia()).WithModifiers(SyntaxFactory.TokenList(partial));
        }
        return declaration.AddModifiers(SyntaxFactory.Token(SyntaxKind.PartialKeyword).WithTrailingTrivia(SyntaxFactory.Space));
    }
}
