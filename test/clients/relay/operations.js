// Relay operations (exported only so the file is a module; relay-compiler reads the tags) compiled by relay-compiler against schema.graphql in test/clients/relay.test.ts:
// connections on `investigations` (both ways), an investigation's findings paginated through a
// @refetchable fragment on Investigation (Relay's `node(id:)`), node lookups, and a deletion whose
// answer removes the record (`@deleteRecord`) and its edges (`@deleteEdge`) from the store.
const { graphql } = require('relay-runtime');

module.exports.investigationList = graphql`
  fragment operationsInvestigationList_query on Query
  @refetchable(queryName: "RelayInvestigationsPaginationQuery")
  @argumentDefinitions(
    first: { type: "Int" }
    after: { type: "String" }
    last: { type: "Int" }
    before: { type: "String" }
  ) {
    investigations(first: $first, after: $after, last: $last, before: $before)
      @connection(key: "operationsInvestigationList_investigations") {
      totalCount
      edges {
        node {
          id
          title
          ...operationsInvestigationFindings_investigation
        }
      }
    }
  }
`;

module.exports.investigationFindings = graphql`
  fragment operationsInvestigationFindings_investigation on Investigation
  @refetchable(queryName: "RelayInvestigationFindingsPaginationQuery")
  @argumentDefinitions(count: { type: "Int", defaultValue: 2 }, cursor: { type: "String" }) {
    id
    updatedAt
    findings(first: $count, after: $cursor) @connection(key: "operationsInvestigationFindings_findings") {
      totalCount
      edges {
        node {
          id
          summary
        }
      }
    }
  }
`;

module.exports.investigationsQuery = graphql`
  query operationsInvestigationsQuery($first: Int, $last: Int) {
    ...operationsInvestigationList_query @arguments(first: $first, last: $last)
  }
`;

module.exports.nodeQuery = graphql`
  query operationsNodeQuery($id: ID!) {
    node(id: $id) {
      __typename
      id
      ... on Investigation {
        title
      }
      ... on Health {
        status
      }
    }
  }
`;

module.exports.nodesQuery = graphql`
  query operationsNodesQuery($ids: [ID!]!) {
    nodes(ids: $ids) {
      id
    }
  }
`;

module.exports.addFindingMutation = graphql`
  mutation operationsAddFindingMutation($investigationId: ID!, $summary: String!) {
    addFinding(investigationId: $investigationId, input: { summary: $summary }) {
      id
      investigation {
        id
        updatedAt
        findings(first: 0) {
          totalCount
        }
      }
    }
  }
`;

module.exports.deleteInvestigationMutation = graphql`
  mutation operationsDeleteInvestigationMutation($id: ID!, $connections: [ID!]!) {
    deleteInvestigationV2(id: $id) {
      # One handle per field, so the id twice: its edges go first (@deleteEdge finds an edge by
      # its node, which @deleteRecord removes), then the record.
      edgeId: deletedId @deleteEdge(connections: $connections)
      deletedId @deleteRecord
    }
  }
`;
