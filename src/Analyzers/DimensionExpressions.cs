using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace ModelGen.Analyzers;

/// <summary>Semantic models for the trees the analysis touches (a layer may be created in another file of a partial class).</summary>
internal static class SemanticModels
{
    public static SemanticModel For(Compilation compilation, SyntaxTree tree) => compilation.GetSemanticModel(tree);
}

/// <summary>What counts as a layer dimension the shape checker can reason about (MG0013): a compile-time constant, or a
/// named symbolic dimension — a parameter, local, field or property (also of another object: <c>config.Hidden</c>) —
/// or +, −, *, /, % of those. A method call, an indexer or a conditional is neither.</summary>
internal static class DimensionExpressions
{
    public static bool IsSymbolic(ExpressionSyntax expression, SemanticModel model, CancellationToken ct)
    {
        if (model.GetConstantValue(expression, ct).HasValue) return true;
        switch (expression)
        {
            case ParenthesizedExpressionSyntax p:
                return IsSymbolic(p.Expression, model, ct);
            case CastExpressionSyntax c:
                return IsSymbolic(c.Expression, model, ct);
            case CheckedExpressionSyntax c:
                return IsSymbolic(c.Expression, model, ct);
            case PrefixUnaryExpressionSyntax u when u.IsKind(SyntaxKind.UnaryMinusExpression) || u.IsKind(SyntaxKind.UnaryPlusExpression):
                return IsSymbolic(u.Operand, model, ct);
            case BinaryExpressionSyntax b when b.Kind() is SyntaxKind.AddExpression or SyntaxKind.SubtractExpression
                or SyntaxKind.MultiplyExpression or SyntaxKind.DivideExpression or SyntaxKind.ModuloExpression:
                return IsSymbolic(b.Left, model, ct) && IsSymbolic(b.Right, model, ct);
            case IdentifierNameSyntax:
            case MemberAccessExpressionSyntax { RawKind: (int)SyntaxKind.SimpleMemberAccessExpression }:
                var symbol = model.GetSymbolInfo(expression, ct).Symbol;
                // unresolved while the user is typing: the compiler reports it; do not pile on
                if (symbol is null) return true;
                return symbol.Kind is SymbolKind.Parameter or SymbolKind.Local or SymbolKind.Field or SymbolKind.Property;
            default:
                return false;
        }
    }
}
