-- Search documents follow the rows they index and are written by the database itself,
-- as PostgreSQL's generated search columns are: a new ticket or message costs its
-- writer no extra statement (each statement is a hand-off to the connection's thread).
CREATE TRIGGER search_docs_ticket_added AFTER INSERT ON tickets BEGIN
    INSERT INTO search_docs (ticket_id, kind, subject, body) VALUES (new.id, 'subject', new.subject, '');
END;

CREATE TRIGGER search_docs_message_added AFTER INSERT ON messages BEGIN
    INSERT INTO search_docs (ticket_id, kind, subject, body) VALUES (new.ticket_id, new.kind, '', new.body);
END;
